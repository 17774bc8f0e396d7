// The one routing table: method → handler. A typed record, so a method without a handler does not compile.
import type { Method, Params, Results } from '../sdk/protocol.js';
import type { Handler, HandlerContext } from './handlers/context.js';
import { checkHandler } from './handlers/check.js';
import { now, random, wait } from './handlers/clock.js';
import { exec } from './handlers/exec.js';
import { exists, mkdir, readFile, remove, writeFile } from './handlers/fs.js';
import { log } from './handlers/log.js';
import { setPermissions } from './handlers/permissions.js';
import { reload, restart, status } from './handlers/services.js';
import { backup, list, restore } from './handlers/state.js';
import { del, get, keys, set } from './handlers/store.js';

/** Every method of the protocol and its handler. */
export const HANDLERS: { readonly [M in Method]: Handler<M> } = Object.freeze({
  'log': log,
  'permissions.set': setPermissions,
  'state.backup': backup,
  'state.restore': restore,
  'state.list': list,
  'fs.readFile': readFile,
  'fs.writeFile': writeFile,
  'fs.mkdir': mkdir,
  'fs.remove': remove,
  'fs.exists': exists,
  'exec': exec,
  'services.restart': restart,
  'services.reload': reload,
  'services.status': status,
  'store.get': get,
  'store.set': set,
  'store.delete': del,
  'store.keys': keys,
  'clock.now': now,
  'clock.sleep': wait,
  'random.bytes': random,
});

/**
 * Runs the handler of `method`; in check mode (ctx.plan set) its check-mode handler when it has one, so nothing
 * changes. The params were validated against that method's schema by the caller.
 */
export function route<M extends Method>(method: M, params: Params<M>, ctx: HandlerContext): Promise<Results[M]> {
  // TypeScript cannot correlate HANDLERS[method] with M through the mapped type; the record above is exact.
  const handler = (ctx.plan !== undefined ? checkHandler(method) : undefined) ?? HANDLERS[method];
  return handler(params, ctx);
}
