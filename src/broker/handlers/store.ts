// Handlers of store.get, store.set, store.delete and store.keys.
// Policy: a module may use its own store and no other; which store is chosen from the channel's identity
// (ctx.store was opened for ctx.module), so no request field can name another module's store.
import type { Handler } from './context.js';

/** store.get: the value, or undefined when the key is absent. */
export const get: Handler<'store.get'> = async (p, ctx) => ({ value: await ctx.store.get(p.key) });

/** store.set: size-capped; the file is replaced atomically. */
export const set: Handler<'store.set'> = async (p, ctx) => {
  await ctx.store.set(p.key, p.value);
  return null;
};

/** store.delete: whether the key existed. */
export const del: Handler<'store.delete'> = async (p, ctx) => ({ deleted: await ctx.store.delete(p.key) });

/** store.keys: sorted. */
export const keys: Handler<'store.keys'> = async (_p, ctx) => ({ keys: await ctx.store.keys() });
