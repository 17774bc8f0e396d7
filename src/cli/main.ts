/**
 * The `updates` command: parses flags, loads only the command asked for, exits with a documented code.
 * `updates --version` alone answers before the flag parser and its schemas load; `--help` and the light commands
 * answer without loading the run machinery (piscina, ses, esbuild).
 */
import { EXIT } from '../core/exit-codes.js';
import type { Logger } from '../core/logger.js';
import { orchestratorVersion } from '../orchestrator/version.js';
import type { CommandContext, CommandModule } from './command.js';

/** Every command and where it lives: adding a command is one line here and a file in commands/. */
const COMMANDS: Readonly<Record<string, () => Promise<CommandModule>>> = {
  'run': () => import('./commands/run.js'),
  'check': () => import('./commands/run.js'),
  'status': () => import('./commands/status.js'),
  'history': () => import('./commands/history.js'),
  'hold': () => import('./commands/hold.js'),
  'unhold': () => import('./commands/unhold.js'),
  'rollback': () => import('./commands/rollback.js'),
  'doctor': () => import('./commands/doctor.js'),
  'run-module': () => import('./commands/run-module.js'),
  'validate': () => import('./commands/validate.js'),
  'new-module': () => import('./commands/new-module.js'),
  'migrate-legacy': () => import('./commands/migrate-legacy.js'),
  'self-test': () => import('./commands/self-test.js'),
};

/** Runs the CLI and returns the exit code (the caller exits with it). */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${orchestratorVersion()}\n`);
    return EXIT.OK;
  }
  const [{ UpdatesError }, { HELP, LOG_LEVELS, parseCli }, { underRoot }, { didYouMean }] = await Promise.all([
    import('../core/errors.js'),
    import('./args.js'),
    import('../orchestrator/layout.js'),
    import('../core/suggest.js'),
  ]);
  let logger: Logger | undefined;
  let json = argv.includes('--json');
  try {
    const opts = parseCli(argv);
    json = opts.json;
    if (opts.command === 'help') {
      process.stdout.write(HELP);
      return EXIT.OK;
    }
    if (opts.command === 'version') {
      process.stdout.write(`${orchestratorVersion()}\n`);
      return EXIT.OK;
    }
    const load = COMMANDS[opts.command];
    if (load === undefined) {
      const hint = didYouMean(opts.command, Object.keys(COMMANDS));
      throw new UpdatesError('E_USAGE', { detail: `unknown command "${opts.command}"${hint !== undefined ? ` (did you mean "${hint}"?)` : ''}` });
    }
    const level = opts.logLevel ?? process.env['UPDATES_LOG_LEVEL'];
    if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new UpdatesError('E_USAGE', { detail: `UPDATES_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"` });
    }
    const ctx: CommandContext = {
      argv,
      opts,
      installRoot: underRoot(opts.root, opts.modulesPath),
      logger: async () => (logger ??= (await import('../core/logger.js')).createLogger(level !== undefined ? { level } : {})),
    };
    return await (await load()).command(ctx);
  } catch (err) {
    return await reportError(err, logger, json);
  } finally {
    logger?.flush();
  }
}

/**
 * One line that says what went wrong: usage and configuration errors on stderr (exit 2); the others through the
 * logger, with the stack trace only at debug level.
 */
async function reportError(err: unknown, logger: Logger | undefined, json: boolean): Promise<number> {
  const { UpdatesError, messageOf } = await import('../core/errors.js');
  if (json && err instanceof UpdatesError) process.stdout.write(`${JSON.stringify({ error: err.toWire() }, null, 2)}\n`);
  if (err instanceof UpdatesError && (err.code === 'E_USAGE' || err.code === 'E_CONFIG')) {
    process.stderr.write(`updates: ${err.message}\n`);
    return EXIT.USAGE;
  }
  const log = logger ?? (await import('../core/logger.js')).createLogger({ level: await levelOrInfo() });
  try {
    if (err instanceof UpdatesError) {
      log.error({ code: err.code }, err.message);
      return err.code === 'E_LOCKED' ? EXIT.LOCKED : EXIT.FAILED;
    }
    log.error(`unexpected error: ${messageOf(err)} (run with --log-level debug for the stack trace)`);
    log.debug({ err }, 'stack trace');
    return EXIT.FAILED;
  } finally {
    if (logger === undefined) log.flush();
  }
}

async function levelOrInfo(): Promise<string> {
  const { LOG_LEVELS } = await import('./args.js');
  const env = process.env['UPDATES_LOG_LEVEL'];
  return env !== undefined && (LOG_LEVELS as readonly string[]).includes(env) ? env : 'info';
}

