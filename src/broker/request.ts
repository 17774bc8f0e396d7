// Turns an untrusted message into a validated request: clone, shape limits, no "__proto__" keys, then zod.
import { describeIssues } from '../core/manifest.js';
import { UpdatesError } from '../core/errors.js';
import { methodSchemas, requestSchema } from '../sdk/protocol.js';
import type { Method, Params } from '../sdk/protocol.js';
import { DEFAULTS } from '../core/defaults.js';

/** Id used in the reply to a message that carries no usable id; the sandbox ignores replies it did not ask for. */
export const NO_ID = -1;
/** Deepest nesting of a request (the store's JSON values are the only nested part). */
const MAX_DEPTH = DEFAULTS.requestMaxDepth;
/** Most objects, arrays and values in one request. */
const MAX_NODES = DEFAULTS.requestMaxNodes;

/** A request after validation: fresh objects built by zod, never the caller's. */
export interface ParsedRequest {
  id: number;
  method: Method;
  params: Params<Method>;
}

function bad(method: string, detail: string): UpdatesError {
  return new UpdatesError('E_BAD_REQUEST', { method, detail });
}

/** The message's id when it is a valid one, else NO_ID: so a malformed call still settles on the module's side. */
export function bestEffortId(raw: unknown): number {
  if (typeof raw !== 'object' || raw === null) return NO_ID;
  const id = (raw as { id?: unknown }).id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : NO_ID;
}

/** The message's method name for audits and messages, when it is a short string. */
export function rawMethod(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = (raw as { method?: unknown }).method;
  return typeof m === 'string' && m.length <= 64 ? m : undefined;
}

/**
 * Refuses nesting deeper than MAX_DEPTH, more than MAX_NODES values, and any own "__proto__" key (which a
 * later plain-object copy would turn into a prototype). Iterative, so a deep message cannot overflow the stack.
 */
function checkShape(value: unknown, method: string): void {
  const stack: [unknown, number][] = [[value, 0]];
  let nodes = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (++nodes > MAX_NODES) throw bad(method, `the request has more than ${MAX_NODES} values`);
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_DEPTH) throw bad(method, `the request is nested deeper than ${MAX_DEPTH} levels`);
    if (Object.prototype.hasOwnProperty.call(v, '__proto__')) throw bad(method, 'a "__proto__" key is not allowed');
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
}

/** The message after a structured clone: plain data only, sharing nothing with the sender's object. */
export type Copy = { ok: true; value: unknown } | { ok: false };

/**
 * Clones a message first of all, so no getter, proxy or toJSON of the sender can run after this point (even
 * the id and method used in a refusal are read from the copy). Functions and other non-data are refused.
 */
export function cloneMessage(raw: unknown): Copy {
  try {
    return { ok: true, value: structuredClone(raw) };
  } catch {
    return { ok: false };
  }
}

/** Validates a cloned message: shape limits, the envelope, then the method's params (zod builds fresh objects). */
export function parseRequest(copy: Copy): ParsedRequest {
  if (!copy.ok) throw bad('unknown', 'the message is not plain data');
  const method = rawMethod(copy.value) ?? 'unknown';
  checkShape(copy.value, method);
  const envelope = requestSchema.safeParse(copy.value);
  if (!envelope.success) throw bad(method, describeIssues(envelope.error));
  const schema = methodSchemas[envelope.data.method];
  const params = schema.safeParse(envelope.data.params);
  if (!params.success) throw bad(envelope.data.method, describeIssues(params.error));
  return { id: envelope.data.id, method: envelope.data.method, params: Object.freeze(params.data) };
}
