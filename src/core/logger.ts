/**
 * The orchestrator's pino logger: human logs on stderr, pretty on a TTY and JSON lines otherwise.
 * Modules, the broker and the sandbox log through child loggers bound to the run id and module name.
 */
import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** Force pretty (true) or JSON lines (false); default: pretty when stderr is a TTY. */
  pretty?: boolean;
  /** Where JSON lines go; default stderr. Tests pass a stream to read them back. */
  destination?: NodeJS.WritableStream;
}

/** Creates the root logger of a run. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env['UPDATES_LOG_LEVEL'] ?? 'info';
  const pretty = options.pretty ?? (options.destination === undefined && process.stderr.isTTY === true);
  if (pretty) {
    return pino({
      level,
      transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:standard', ignore: 'pid,hostname,run', singleLine: true } },
    });
  }
  return pino({ level, base: null }, (options.destination as pino.DestinationStream | undefined) ?? pino.destination(2));
}

/** A logger that discards everything (unit tests that do not read logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
