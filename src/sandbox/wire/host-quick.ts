// The hand-written checks of the frequent IPC messages between main and the sandbox process: each accepts only
// what its zod schema in host.ts accepts (test/sandbox/wire-quick.test.ts holds them to it), and anything else is
// left to the schema. No zod here: the sandbox process evaluates this at its start, and zod only when it must.
import type { RunMessage, ToHost, ToMain } from './host.js';

/** Bumped on any incompatible change; the host's `ready` carries it and main refuses a mismatch. */
export const HOST_PROTOCOL_VERSION = 5;

/** `raw` as a plain object with exactly the keys `keys` (in any order), else undefined. */
function exactly(raw: unknown, keys: readonly string[]): Record<string, unknown> | undefined {
  if (typeof raw !== 'object' || raw === null || Object.getPrototypeOf(raw) !== Object.prototype) return undefined;
  const own = Object.keys(raw);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(raw, k)) ? (raw as Record<string, unknown>) : undefined;
}

function isJobId(id: unknown): id is number {
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0;
}

/**
 * The messages every module run sends main ('started', 'request', a successful 'settled'), checked by hand: the
 * same shapes toMainSchema accepts, without its cost on each message. Undefined for anything else, which then goes
 * through toMainSchema: this only ever accepts what the schema would.
 */
export function quickToMain(raw: unknown): ToMain | undefined {
  const t = typeof raw === 'object' && raw !== null ? (raw as { t?: unknown }).t : undefined;
  if (t === 'started') {
    const m = exactly(raw, ['t', 'id']);
    return m !== undefined && isJobId(m['id']) ? { t, id: m['id'] } : undefined;
  }
  if (t === 'request') {
    const m = exactly(raw, ['t', 'id', 'raw']);
    return m !== undefined && isJobId(m['id']) ? { t, id: m['id'], raw: m['raw'] } : undefined;
  }
  if (t === 'settled') {
    const m = exactly(raw, ['t', 'id', 'ok', 'reply']);
    return m !== undefined && isJobId(m['id']) && m['ok'] === true ? { t, id: m['id'], ok: true, reply: m['reply'] } : undefined;
  }
  return undefined;
}

/** A broker's reply to relay (main → host), checked by hand as quickToMain checks its messages; else undefined. */
export function quickReply(raw: unknown): ToHost | undefined {
  const m = exactly(raw, ['t', 'id', 'reply']);
  return m !== undefined && m['t'] === 'reply' && isJobId(m['id']) ? { t: 'reply', id: m['id'], reply: m['reply'] } : undefined;
}

/** The keys a run message always has. */
const RUN_KEYS = ['t', 'id', 'module', 'code', 'configuration', 'args', 'check', 'timeoutMs', 'maxMemoryMb'] as const;

function isPositive(n: unknown): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0;
}

/**
 * Whether `o` is a plain object that toHostSchema's record gives back key for key: only enumerable string keys,
 * none of them `__proto__` (which the schema drops).
 */
function isPlainRecord(o: unknown): o is Record<string, unknown> {
  if (typeof o !== 'object' || o === null || Object.getPrototypeOf(o) !== Object.prototype) return false;
  return Reflect.ownKeys(o).every((k) => typeof k === 'string' && k !== '__proto__' && Object.prototype.propertyIsEnumerable.call(o, k));
}

/** Whether `a` is an array of strings with no holes and no keys besides its indexes (the schema gives back a plain copy). */
function isStringArray(a: unknown): a is string[] {
  if (!Array.isArray(a) || Object.getPrototypeOf(a) !== Array.prototype || Object.keys(a).length !== a.length) return false;
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== 'string') return false;
  return true;
}

/**
 * A run message (main → host) as main sends it, checked by hand: the shape toHostSchema's run accepts, with its
 * optional keys either absent or set, a configuration that is a plain object and arguments that are a plain array
 * of strings. Undefined for anything else, which then goes through toHostSchema.
 */
export function quickRun(raw: unknown): RunMessage | undefined {
  if (typeof raw !== 'object' || raw === null || (raw as { t?: unknown }).t !== 'run') return undefined;
  const keys: string[] = [...RUN_KEYS];
  if (Object.hasOwn(raw, 'after')) keys.push('after');
  if (Object.hasOwn(raw, 'onlyIfOk')) keys.push('onlyIfOk');
  const m = exactly(raw, keys);
  if (m === undefined) return undefined;
  const { id, module, code, configuration, args, check, timeoutMs, maxMemoryMb, after, onlyIfOk } = m;
  if (!isJobId(id) || typeof module !== 'string' || typeof code !== 'string' || typeof check !== 'boolean') return undefined;
  if (!isPositive(timeoutMs) || !isPositive(maxMemoryMb)) return undefined;
  if (!isPlainRecord(configuration) || !isStringArray(args)) return undefined;
  if (keys.includes('after') && !isJobId(after)) return undefined;
  if (keys.includes('onlyIfOk') && onlyIfOk !== true) return undefined;
  return {
    t: 'run', id, module, code, configuration, args, check, timeoutMs, maxMemoryMb,
    ...(keys.includes('after') ? { after: after as number } : {}),
    ...(onlyIfOk === true ? { onlyIfOk } : {}),
  };
}
