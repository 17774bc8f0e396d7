/** `updates status [--json]`: per module the live, previous and held versions and the last outcome; the last run. */
import { EXIT } from '../../core/exit-codes.js';
import { layoutOf } from '../../orchestrator/layout.js';
import type { Command } from '../command.js';
import { formatStatus } from '../status-format.js';
import { statusOf } from '../status.js';

export const command: Command = async ({ opts, installRoot }) => {
  const status = await statusOf(layoutOf(installRoot));
  process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
  return EXIT.OK;
};
