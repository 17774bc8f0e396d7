// A module task's deadline, counted from when its worker starts it, with a separate bound on the start itself.
import { DEFAULTS } from '../../core/defaults.js';

/**
 * Why a task was aborted: its worker never started it, a worker of its pool failed before starting it (the next one
 * would most likely fail the same way), or the module overran its own deadline.
 */
export type AbortReason = 'start' | 'worker' | 'deadline';

/**
 * Aborts `signal` when the task's worker has not started it within `startMs`, or when the module runs longer
 * than `timeoutMs` after `started()`. Waiting for a worker (its thread start, SES lockdown, tsx from source)
 * is not the module's time: on a busy machine it can take seconds.
 */
export class TaskDeadline {
  readonly #abort = new AbortController();
  readonly #timeoutMs: number;
  #timer: NodeJS.Timeout;
  #reason: AbortReason | undefined;
  #started = false;
  #workerError: string | undefined;

  constructor(timeoutMs: number, startMs: number = DEFAULTS.workerStartTimeoutMs) {
    this.#timeoutMs = timeoutMs;
    this.#timer = setTimeout(() => this.#fire('start'), startMs);
  }

  /** The signal to hand to piscina. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Why the signal fired, if it did. */
  get reason(): AbortReason | undefined {
    return this.#reason;
  }

  /** The worker started the task: the module's deadline runs from now. Later calls change nothing. */
  started(): void {
    if (this.#started || this.#reason !== undefined) return;
    this.#started = true;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#fire('deadline'), this.#timeoutMs);
  }

  /** What the failed worker said, when the reason is 'worker'. */
  get workerError(): string | undefined {
    return this.#workerError;
  }

  /**
   * A worker of the task's pool failed outside any task (it could not load, or crashed at start): a task not yet
   * started fails now with that error instead of waiting out the start bound. A started task is not affected.
   */
  workerFailed(message: string): void {
    if (this.#started || this.#reason !== undefined) return;
    this.#workerError = message;
    this.#fire('worker');
  }

  /** Stops the timers; call once the task has settled. */
  clear(): void {
    clearTimeout(this.#timer);
  }

  #fire(reason: AbortReason): void {
    if (this.#reason !== undefined) return;
    this.#reason = reason;
    this.#abort.abort();
  }
}
