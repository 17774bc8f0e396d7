/**
 * updates-orchestrator/sdk: what a module imports.
 *
 * ```ts
 * import { fs, log, services } from 'updates-orchestrator/sdk';
 * import type { ModuleResult } from 'updates-orchestrator/sdk';
 *
 * export async function main(args?: string[]): Promise<ModuleResult> {
 *   const changed = await fs.writeFile('/etc/app/app.conf', 'port = 8080\n');
 *   if (changed) await services.restart('app');
 *   return { success: true, changed };
 * }
 * ```
 *
 * In the orchestrator's sandbox this import is bound to an SDK wired to the module's broker channel; the
 * exports of this file exist so module authors get types and completion in their editor. Called outside the
 * sandbox, every function rejects with code E_NO_SANDBOX and says how to run a module.
 * @packageDocumentation
 */
import { createSdk, SdkError } from './client.js';
import type { Sdk } from './client.js';

const outside = createSdk(
  () =>
    Promise.reject(
      new SdkError('E_NO_SANDBOX', 'the SDK works only inside the orchestrator; run this module with "updates run-module <dir>"'),
    ),
  Object.freeze({}),
);

/** Log lines of the module, to the orchestrator's log and the run report. Needs no declaration. */
export const log: Sdk['log'] = outside.log;
/** Owners, groups and modes of files under `capabilities.paths` entries with `"chown"` / `"chmod"` access. */
export const permissions: Sdk['permissions'] = outside.permissions;
/** Backups (`state.backup`) and verified restores (`state.restore`) of files under `"backup"` access. */
export const state: Sdk['state'] = outside.state;
/** Atomic file reads and writes under `capabilities.paths` entries with `"read"` / `"write"` access. */
export const fs: Sdk['fs'] = outside.fs;
/** Runs a command declared, argv for argv, in `capabilities.commands`; no shell. */
export const exec: Sdk['exec'] = outside.exec;
/** Restart, reload or query a service declared in `capabilities.services`. */
export const services: Sdk['services'] = outside.services;
/** The module's own `configuration` object from its `index.json`, read-only. */
export const config: Sdk['config'] = outside.config;
/** A persistent key-value store of the module's own. Needs no declaration. */
export const store: Sdk['store'] = outside.store;
/** The time, and waits of up to 60 s a call (a module has no `Date.now()` or timers). */
export const clock: Sdk['clock'] = outside.clock;
/** Random hex and UUIDs from the operating system's generator (a module has no `Math.random()`). Needs no declaration. */
export const random: Sdk['random'] = outside.random;
/** How this run goes: `run.check` is true when the orchestrator only plans (`--check`). Needs no declaration. */
export const run: Sdk['run'] = outside.run;

export { SdkError } from './client.js';
export type {
  Sdk,
  SdkLog,
  SdkPermissions,
  SdkState,
  SdkFs,
  SdkServices,
  SdkClock,
  SdkStore,
  SdkRun,
  SdkRandom,
  ServicePermissionsOptions,
  ExecOptions,
  JsonValue,
} from './client.js';
export type { PermissionTarget, ExecResult, ServiceStatus, BackupInfo, ModuleResult } from './protocol.js';
