/** `updates status [--json]`: installed modules, versions, enabled flags, the last run. */
import { EXIT } from '../../core/exit-codes.js';
import { layoutOf } from '../../orchestrator/layout.js';
import type { Command } from '../command.js';
import { formatStatus, statusOf } from '../status.js';

export const command: Command = async ({ opts, installRoot }) => {
  const status = await statusOf(layoutOf(installRoot));
  process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
  return EXIT.OK;
};
