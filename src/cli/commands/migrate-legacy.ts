/** `updates migrate-legacy`: writes each legacy manifest.json entry's index.json into its module folder. */
import { formatMigrateReport, migrateLegacy } from '../../orchestrator/legacy/index.js';
import type { Command } from '../command.js';

export const command: Command = async ({ opts, installRoot, logger }) => {
  const migrated = await migrateLegacy({ installRoot, wait: opts.wait, logger: await logger() });
  process.stdout.write(opts.json ? `${JSON.stringify(migrated, null, 2)}\n` : formatMigrateReport(migrated));
  return migrated.exitCode;
};
