/**
 * What the operator commands (hold, unhold, rollback) share: where the metrics file is, which they rewrite after
 * a change. It is resolved before the change, so a broken config file refuses the command before anything moves.
 */
import { underRoot } from '../../orchestrator/layout.js';
import type { Layout } from '../../orchestrator/layout.js';
import type { CommandContext } from '../command.js';
import { readConfigFile, resolveSettings } from '../settings.js';

/** The metrics file: metrics_file / --metrics-file mapped under --root, else the layout's default. */
export async function metricsPath({ opts, installRoot }: CommandContext, layout: Layout): Promise<string> {
  const s = await resolveSettings(await readConfigFile(installRoot, opts.configFile, opts.root), opts.flags);
  return s.metricsFile !== undefined ? underRoot(opts.root, s.metricsFile) : layout.metricsFile;
}
