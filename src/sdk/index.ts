/**
 * updates-orchestrator/sdk: what a module imports.
 *
 * In the orchestrator's sandbox this import is bound to an SDK wired to the module's broker channel; the
 * exports of this file exist so module authors get types and completion in their editor. Called outside the
 * sandbox, every function rejects with code E_NO_SANDBOX and says how to run a module.
 */
import { createSdk, SdkError } from './client.js';

const outside = createSdk(
  () =>
    Promise.reject(
      new SdkError('E_NO_SANDBOX', 'the SDK works only inside the orchestrator; run this module with "updates run-module <dir>"'),
    ),
  Object.freeze({}),
);

// The SDK's functions are closures that never use `this`, so taking them off the object is safe.
// eslint-disable-next-line @typescript-eslint/unbound-method
export const { log, permissions, state, fs, exec, services, config, store, clock } = outside;
export { SdkError } from './client.js';
export type { Sdk, JsonValue } from './client.js';
export type { PermissionTarget, ExecResult, ServiceStatus, BackupInfo, ModuleResult } from './protocol.js';
