// Takes Worker creation away from a sandbox worker: the permission model's --allow-worker would let it escape.
import { syncBuiltinESMExports } from 'node:module';

/** What code in a sealed worker gets instead of `new Worker(...)`. */
function refusedWorker(): never {
  const err = new Error('creating a Worker is not allowed in the sandbox');
  throw Object.assign(err, { code: 'ERR_ACCESS_DENIED' });
}

interface PermissionApi {
  drop?: (scope: string) => void;
}

/**
 * Called once in each sandbox worker before the first module runs. The sandbox process needs `--allow-worker`
 * (piscina starts workers), and a Worker given any execArgv runs with no permission model at all, so code that
 * escaped a compartment into the worker's realm could start an unrestricted one.
 *
 * - Node >= 24: `process.permission.drop('worker')`, irreversible, feature-detected. The worker's permissions
 *   are its own Environment's (see ARCHITECTURE.md: they come from its execArgv), so the pool keeps its own.
 * - Older Node (no drop): the `Worker` export of node:worker_threads is replaced, for this worker only, by a
 *   constructor that throws, and the ESM view is synced; no other reference to the real one is reachable here.
 */
export function sealWorkerCreation(): void {
  const permission = (process as { permission?: PermissionApi }).permission;
  if (typeof permission?.drop === 'function') permission.drop('worker');
  const threads = process.getBuiltinModule('node:worker_threads') as { Worker: unknown };
  Object.defineProperty(threads, 'Worker', { value: refusedWorker, writable: false, configurable: false, enumerable: true });
  syncBuiltinESMExports();
}
