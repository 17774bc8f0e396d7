// `updates status [--json]`.
import { EXIT } from '../../core/exit-codes.js';
import { layoutOf } from '../../orchestrator/layout.js';
import { formatStatus } from '../status-format.js';
import { statusOf } from '../status.js';
import type { CommandRun } from './context.js';

export const run: CommandRun = async ({ opts, installRoot }) => {
  const status = await statusOf(layoutOf(installRoot));
  process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
  return EXIT.OK;
};
