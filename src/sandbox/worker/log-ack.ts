// A module's log call answered in its own worker, so the module goes on without a round trip to main.
import { DEFAULTS } from '../../core/defaults.js';

/** The levels and the longest message the SDK protocol allows a log request (src/sdk/protocol.ts, methodSchemas.log). */
const LEVELS = new Set(['debug', 'info', 'warn', 'error']);
const MAX_MESSAGE = 8192;

/** Whether `level` and `message` make a log request main's broker accepts as well formed. */
export function isLogLine(level: unknown, message: unknown): boolean {
  return typeof level === 'string' && LEVELS.has(level) && typeof message === 'string' && message.length <= MAX_MESSAGE;
}

/**
 * One run's requests, as its worker sent them: how many, and which main has not answered yet. A log line is
 * answered in the worker when main's broker is bound to accept it; the line still goes to main, which checks,
 * writes and audits it before the module's outcome, and main's own answer then only frees its in-flight slot.
 */
export class RequestLedger {
  #sent = 0;
  readonly #unanswered = new Set<number>();
  /** Ids of the log lines answered here. */
  readonly #acked = new Set<number>();

  /**
   * Notes request `id` as sent; true when it is to be answered now: a well-formed log line (`logLine`) within the
   * run's request cap (DEFAULTS.brokerMaxRequests, counting every request, as the broker does) and with fewer than
   * DEFAULTS.brokerMaxInFlight requests unanswered before it (so the broker's in-flight cap cannot refuse it
   * either). Anything else waits for main's answer, as every other call does.
   */
  sent(id: number, logLine: boolean): boolean {
    this.#sent += 1;
    const waiting = this.#unanswered.size;
    this.#unanswered.add(id);
    if (!logLine || this.#sent > DEFAULTS.brokerMaxRequests || waiting >= DEFAULTS.brokerMaxInFlight) return false;
    this.#acked.add(id);
    return true;
  }

  /** Notes main's answer to `id`; whether it settles a call (not when the call was answered here, or is unknown). */
  answered(id: number): boolean {
    if (!this.#unanswered.delete(id)) return false;
    return !this.#acked.delete(id);
  }
}
