/**
 * The orchestrator's pino logger: human logs on stderr, pretty on a TTY and JSON lines otherwise.
 * Modules, the broker and the sandbox log through child loggers bound to the run id and module name.
 * On a terminal, broker audit lines (`audit: true`) are logged at debug, so a person sees the run's story;
 * JSON logs keep them at info for the machines that collect them. Under systemd (JOURNAL_STREAM names
 * stderr), each JSON line starts with its syslog priority (`<3>` error … `<7>` debug), which journald reads.
 */
import { fstatSync } from 'node:fs';
import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level?: string;
  /** Force pretty (true) or JSON lines (false); default: pretty when stderr is a TTY. */
  pretty?: boolean;
  /** Where JSON lines go; default stderr. Tests pass a stream to read them back. */
  destination?: NodeJS.WritableStream;
  /** Prefix JSON lines with journald priorities; default: when JOURNAL_STREAM names stderr. */
  journald?: boolean;
}

/** pino level → syslog priority, as journald reads it from a `<N>` line prefix. */
const PRIORITY: Record<number, number> = { 60: 2, 50: 3, 40: 4, 30: 6, 20: 7, 10: 7 };

/** Whether stderr is the journal stream systemd set up (JOURNAL_STREAM is "device:inode" of that stream). */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const js = env['JOURNAL_STREAM'];
  if (js === undefined || js === '') return false;
  try {
    const st = fstatSync(2);
    return js === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

/** The `<N>` prefix for one serialized line (pino writes `{"level":30,...`). */
export function withPriority(line: string): string {
  const m = /^\{"level":(\d+)/.exec(line);
  return `<${PRIORITY[Number(m?.[1])] ?? 6}>${line}`;
}

/** Logs audit lines one level lower (info → debug), for a person reading a terminal. */
const auditAtDebug: NonNullable<NonNullable<pino.LoggerOptions['hooks']>['logMethod']> = function (this: Logger, args, method, level) {
  const first: unknown = args[0];
  if (level === 30 && typeof first === 'object' && first !== null && (first as { audit?: unknown }).audit === true) {
    this.debug(...args);
    return;
  }
  method.apply(this, args);
};

/** Creates the root logger of a run. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env['UPDATES_LOG_LEVEL'] ?? 'info';
  const pretty = options.pretty ?? (options.destination === undefined && process.stderr.isTTY === true);
  if (pretty) {
    return pino({
      level,
      hooks: { logMethod: auditAtDebug },
      transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:standard', ignore: 'pid,hostname,run', singleLine: true } },
    });
  }
  const journald = options.journald ?? (options.destination === undefined && stderrIsJournal());
  return pino(
    { level, base: null, ...(journald ? { hooks: { streamWrite: withPriority } } : {}) },
    (options.destination as pino.DestinationStream | undefined) ?? pino.destination(2),
  );
}

/** A logger that discards everything (unit tests that do not read logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
