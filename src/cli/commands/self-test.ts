/** `updates self-test`: bundles and runs a small module in the sandbox; exit 0 when this build works. */
import type { Command } from '../command.js';
import { selfTest } from '../self-test.js';

export const command: Command = () => selfTest();
