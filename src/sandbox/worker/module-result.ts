// Turns whatever a module's main() resolved to, or threw, into plain, validated data (runs in the worker).
import { UpdatesError } from '../../core/errors.js';
import { hintFor } from './error-hints.js';
import { moduleFrames } from './module-stack.js';
import { moduleResultSchema } from '../../sdk/protocol-base.js';
import type { WorkerReply } from '../wire/worker-reply.js';
import { MAX_RESULT_BYTES } from '../wire/task.js';

/** Longest module-supplied text kept in an error detail. */
const MAX_DETAIL_CHARS = 2000;

const clip = (s: string): string => (s.length > MAX_DETAIL_CHARS ? `${s.slice(0, MAX_DETAIL_CHARS)}…` : s);

function failure(code: 'E_MODULE_FAILED' | 'E_MODULE_RESULT', module: string, detail: string): WorkerReply {
  return { ok: false, error: { code, message: new UpdatesError(code, { module, detail: clip(detail) }).message } };
}

/**
 * Describes a thrown value without trusting it: reading `name`/`message` or calling `toString` runs module code
 * (getters), which may throw again. A throw of a non-Error is reported as such.
 */
export function describeThrown(value: unknown): string {
  try {
    if (value instanceof Error) {
      const name = String(value.name);
      const message = String(value.message);
      return message === '' ? name : `${name}: ${message}`;
    }
    const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
    return `threw a non-Error value (${typeof value}): ${shown}`;
  } catch {
    return 'threw a value that cannot be described';
  }
}

/** The stack of a thrown Error, read without trusting it (a getter or a non-string yields nothing). */
function stackOf(value: unknown): string {
  try {
    const stack: unknown = value instanceof Error ? value.stack : undefined;
    return typeof stack === 'string' ? stack : '';
  } catch {
    return '';
  }
}

/**
 * The failure for a throw or rejection of main(), or of evaluating the bundle: the error, what to use instead
 * when it is one of the sandbox's refusals (Date.now, timers, Math.random), and where in the module's own files
 * it happened, mapped through `code`'s source map.
 */
export function thrownFailure(module: string, value: unknown, code = ''): WorkerReply {
  const described = describeThrown(value);
  const hint = hintFor(described);
  const frames = moduleFrames(stackOf(value), code);
  const where = frames.length > 0 ? ` (at ${frames.join('; ')})` : '';
  return failure('E_MODULE_FAILED', module, `${described}${where}${hint !== undefined ? `; ${hint}` : ''}`);
}

/** A failure that is not about a thrown value (e.g. "exports no main() function"). */
export function moduleFailure(module: string, detail: string): WorkerReply {
  return failure('E_MODULE_FAILED', module, detail);
}

/**
 * Validates what main() resolved to: an object, serializable as JSON within MAX_RESULT_BYTES, of the shape of
 * moduleResultSchema. The JSON round trip runs the module's getters and toJSON once, here, and what is validated
 * and returned is that inert copy.
 */
export function normalizeResult(module: string, value: unknown): WorkerReply {
  if (value === null || typeof value !== 'object') {
    return failure('E_MODULE_RESULT', module, value === null ? 'null' : `a ${typeof value}`);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    return failure('E_MODULE_RESULT', module, `a value that cannot be serialized (${describeThrown(err)})`);
  }
  if (json === undefined) return failure('E_MODULE_RESULT', module, 'a value that serializes to nothing');
  if (Buffer.byteLength(json, 'utf8') > MAX_RESULT_BYTES) {
    return failure('E_MODULE_RESULT', module, `a result larger than ${MAX_RESULT_BYTES / 1024} KiB`);
  }
  const parsed = moduleResultSchema.safeParse(JSON.parse(json));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message));
    return failure('E_MODULE_RESULT', module, `an invalid result (${issues.join('; ')})`);
  }
  return { ok: true, result: parsed.data };
}
