/** Takes the run lock of an install root, prints "locked", then waits to be killed: node --import tsx hold-lock.ts <root> */
import { acquireLock } from '../../src/orchestrator/lock.js';

await acquireLock(process.argv[2] ?? '');
process.stdout.write('locked\n');
setInterval(() => undefined, 60_000);
