/**
 * What an operator command gets from main(): the parsed options, the install root, a logger, and the settings
 * (read on demand: commands that need none still work with a broken config file).
 */
import type { Logger } from '../../core/logger.js';
import { underRoot } from '../../orchestrator/layout.js';
import type { Layout } from '../../orchestrator/layout.js';
import type { CliOptions } from '../args.js';
import type { Settings } from '../settings.js';

export interface CommandContext {
  opts: CliOptions;
  installRoot: string;
  logger: Logger;
  settings: () => Promise<Settings>;
}

/** A command: returns the exit code; throws UpdatesError for refusals (main() maps them to exit codes). */
export type CommandRun = (ctx: CommandContext) => Promise<number>;

/** The metrics file: metrics_file / --metrics-file mapped under --root, else the layout's default. */
export function metricsPath(opts: CliOptions, s: Settings, layout: Layout): string {
  return s.metricsFile !== undefined ? underRoot(opts.root, s.metricsFile) : layout.metricsFile;
}
