// Turns anything a handler threw into the plain {code, message, data} a module may see: no stacks, no host paths.
import { UpdatesError } from '../core/errors.js';
import type { WireError } from '../sdk/protocol.js';
import { errnoCode } from '../core/errno.js';

/** Codes that mean "the policy refused" (audited as denied), as opposed to "allowed, but the action failed". */
const DENIAL_CODES = new Set([
  'E_BAD_REQUEST',
  'E_UNDECLARED_PATH',
  'E_PATH_ESCAPE',
  'E_UNDECLARED_OWNER',
  'E_SPECIAL_BITS',
  'E_UNDECLARED_COMMAND',
  'E_UNDECLARED_SERVICE',
  'E_LIMIT',
  'E_RUN_ENDED',
]);

/** Whether a wire error is a policy denial. */
export function isDenial(code: string): boolean {
  return DENIAL_CODES.has(code);
}

/**
 * Converts a thrown value to a wire error. A catalogue error keeps its code and details (built from the
 * module's own view of paths); a system error becomes E_IO with its errno name only, because node's message
 * names the host path, which may include the --root prefix. Anything else is E_INTERNAL without detail.
 */
export function toWireError(err: unknown, method: string): WireError {
  if (err instanceof UpdatesError) return err.toWire();
  const code = errnoCode(err);
  if (code !== undefined && /^E[A-Z]+$/.test(code)) {
    return new UpdatesError('E_IO', { method, detail: `system error ${code}` }).toWire();
  }
  return new UpdatesError('E_INTERNAL', { detail: `the broker failed while handling ${method}` }).toWire();
}
