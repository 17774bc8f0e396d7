/**
 * What every command of the `updates` CLI receives. A command lives in src/cli/commands/<name>.ts, exports
 * `command`, and is listed in main.ts's table, which loads it only when it is the one asked for.
 */
import type { Logger } from '../core/logger.js';
import type { CliOptions } from './args.js';

export interface CommandContext {
  /** The arguments as given (a self-update re-executes the new release with them). */
  argv: string[];
  opts: CliOptions;
  /** The install root: --modules-path mapped under --root. */
  installRoot: string;
  /** The run's logger, created on first use (at the level of --log-level or UPDATES_LOG_LEVEL). */
  logger: () => Promise<Logger>;
}

/** A command: returns the process's exit code. Usage and configuration errors are thrown as UpdatesError. */
export type Command = (ctx: CommandContext) => Promise<number>;

export interface CommandModule {
  command: Command;
}
