// Shapes that cross between the supervisor (supervisor/pool.ts) and a sandbox worker (worker/worker.ts), and the pool's public job types.
// No zod here: the sandbox process loads this at its start (the worker's reply schema is worker-reply.ts).
import type { MessagePort } from 'node:worker_threads';
import type { ModuleResult } from '../../sdk/protocol.js';
import type { PlainError } from '../../core/errors.js';

/** Largest serialized result (JSON, bytes) a module's main() may return. */
export const MAX_RESULT_BYTES = 64 * 1024;

/** What the host posts to a worker for one module run. `port` is transferred: the module's only channel out. */
export interface WorkerTask {
  module: string;
  code: string;
  configuration: Readonly<Record<string, unknown>>;
  args: string[];
  /** Check mode: the broker plans instead of acting; the module sees `run.check === true`. */
  check: boolean;
  port: MessagePort;
}

/**
 * The first message a worker posts on a task's port, once its realm is locked down and the module is about to be
 * evaluated: the module's deadline counts from here, not from when the task was queued (a cold worker's start,
 * SES lockdown and, from source, tsx, are not the module's time). It is not an SDK request and never reaches a broker.
 */
export const TASK_STARTED = Object.freeze({ t: 'task-started' as const });

/** Whether a message from a task's port is the worker's TASK_STARTED notice. */
export function isTaskStarted(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && (raw as { t?: unknown }).t === TASK_STARTED.t;
}

/**
 * The last message a worker posts on a task's port, once the module's run is over: the run's reply (see
 * workerReplySchema), and whether the worker takes the task the host offered to follow it (NextTask). A port
 * delivers in order, so when it arrives every SDK request of the run has arrived too, even those the worker
 * answered itself (log lines): the run ends with it, so none of them comes after the run's broker closed.
 */
export interface TaskEnded {
  t: 'task-ended';
  reply: unknown;
  /** The offered next task is taken: it starts on this worker now. A later offer is not; the host starts it itself. */
  next: boolean;
}

/** Whether a message from a task's port is the worker's TaskEnded notice (its reply is validated where it is used). */
export function isTaskEnded(raw: unknown): raw is TaskEnded {
  return typeof raw === 'object' && raw !== null && (raw as { t?: unknown }).t === 'task-ended' && typeof (raw as { next?: unknown }).next === 'boolean';
}

/**
 * The host's offer, posted on a running task's port, of the run that follows it: the worker starts it the moment
 * this one ends, in the same piscina task (no round trip through the host between the two), and says so in its
 * TaskEnded. `task.port` is transferred with the offer: the next run's own channel.
 */
export interface NextTask {
  t: 'next-task';
  task: WorkerTask;
  /** Taken only when the run it follows succeeded (replyIsOk of that run's reply); else the host cancels it. */
  onlyIfOk?: boolean;
}

/** Whether a message from the host on a task's port is a NextTask offer (the worker's side: the host is trusted). */
export function isNextTask(raw: unknown): raw is NextTask {
  return typeof raw === 'object' && raw !== null && (raw as { t?: unknown }).t === 'next-task' && typeof (raw as { task?: unknown }).task === 'object';
}

/** The broker side of one run, as the pool sees it: it relays raw requests and posts back what `handle` returns. */
export interface JobBroker {
  /** Validates and performs one raw request; resolves to the reply to post back. */
  handle(raw: unknown): Promise<unknown>;
  /** Called once when the run has settled, however it ended; later requests must be refused. */
  close(): void;
}

/** One module run. */
export interface ModuleJob {
  module: string;
  /** The CommonJS bundle from bundleModule(). */
  code: string;
  configuration: Readonly<Record<string, unknown>>;
  args: string[];
  /** Check mode (the broker plans instead of acting); the module sees `run.check`. Default false. */
  check?: boolean;
  timeoutMs: number;
  maxMemoryMb: number;
  broker: JobBroker;
  /** Called once when a worker has started the task (its deadline runs from then). */
  onStarted?: () => void;
}

/** How a run ended. */
export type ModuleStatus = 'ok' | 'failed' | 'timeout' | 'memory' | 'exited';

/** The outcome of one run, as plain data. */
export interface ModuleOutcome {
  module: string;
  status: ModuleStatus;
  /** The module's own result, when main() returned a valid one. */
  result?: ModuleResult;
  /** Set for every status but 'ok'. */
  error?: PlainError;
  durationMs: number;
}
