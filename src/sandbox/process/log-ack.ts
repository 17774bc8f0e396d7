// The sandbox process's own answer to a module's log call, so the module goes on without waiting for main.
import { DEFAULTS } from '../../core/defaults.js';
import { PROTOCOL_VERSION } from '../../sdk/protocol.js';

/** The levels and the longest message the SDK protocol allows a log request (src/sdk/protocol.ts, methodSchemas.log). */
const LEVELS = new Set(['debug', 'info', 'warn', 'error']);
const MAX_MESSAGE = 8192;

/** What the process knows of one run's requests: how many it passed on, and which main has not answered yet. */
export class RequestLedger {
  #forwarded = 0;
  readonly #unanswered = new Map<number, number>();
  /** Ids of the log requests answered here: main's own answer to them is not passed on again. */
  readonly #acked = new Set<number>();

  /**
   * Notes a request passed on to main; returns the reply to give the worker now, when it is a well-formed log line
   * that main's broker is bound to accept: within the run's request cap (DEFAULTS.brokerMaxRequests, counting every
   * request, as the broker does) and with fewer than DEFAULTS.brokerMaxInFlight requests unanswered before it (so
   * the broker's in-flight cap cannot refuse it either). Anything else gets main's reply, as every other call does.
   */
  forward(raw: unknown): { v: number; id: number; ok: true; result: null } | undefined {
    this.#forwarded += 1;
    const id = idOf(raw);
    const waiting = [...this.#unanswered.values()].reduce((a, b) => a + b, 0);
    if (id !== undefined) this.#unanswered.set(id, (this.#unanswered.get(id) ?? 0) + 1);
    if (id === undefined || !isLogLine(raw) || this.#forwarded > DEFAULTS.brokerMaxRequests || waiting >= DEFAULTS.brokerMaxInFlight || this.#acked.has(id)) return undefined;
    this.#acked.add(id);
    return { v: PROTOCOL_VERSION, id, ok: true, result: null };
  }

  /** Notes main's reply; whether it goes on to the worker (not when the request was answered here). */
  answered(reply: unknown): boolean {
    const id = idOf(reply);
    if (id === undefined) return true;
    const left = (this.#unanswered.get(id) ?? 0) - 1;
    if (left > 0) this.#unanswered.set(id, left);
    else this.#unanswered.delete(id);
    return !this.#acked.delete(id);
  }
}

function idOf(raw: unknown): number | undefined {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}

/** `raw` is exactly a protocol log request: { v, id, method: 'log', params: { level, message } }, plain data. */
function isLogLine(raw: unknown): boolean {
  if (!plainWith(raw, ['v', 'id', 'method', 'params'])) return false;
  const r = raw as { v: unknown; method: unknown; params: unknown };
  if (r.v !== PROTOCOL_VERSION || r.method !== 'log' || !plainWith(r.params, ['level', 'message'])) return false;
  const p = r.params as { level: unknown; message: unknown };
  return typeof p.level === 'string' && LEVELS.has(p.level) && typeof p.message === 'string' && p.message.length <= MAX_MESSAGE;
}

function plainWith(raw: unknown, keys: readonly string[]): boolean {
  if (typeof raw !== 'object' || raw === null || Object.getPrototypeOf(raw) !== Object.prototype) return false;
  const own = Object.keys(raw);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(raw, k));
}
