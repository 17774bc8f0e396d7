// Handlers of services.restart, services.reload and services.status.
import type { Handler } from './context.js';

/** services.restart: a declared service only. */
export const restart: Handler<'services.restart'> = async (p, ctx) => {
  ctx.policy.checkService('services.restart', p.name);
  return ctx.services.restart(p.name);
};

/** services.reload: a declared service only. */
export const reload: Handler<'services.reload'> = async (p, ctx) => {
  ctx.policy.checkService('services.reload', p.name);
  return ctx.services.reload(p.name);
};

/** services.status: a declared service only (even reading a unit's state tells something about the host). */
export const status: Handler<'services.status'> = async (p, ctx) => {
  ctx.policy.checkService('services.status', p.name);
  return ctx.services.status(p.name);
};
