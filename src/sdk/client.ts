/**
 * The typed SDK a module sees, built over a transport that carries protocol requests to the broker.
 *
 * `createSdk(call, configuration)` is used by the sandbox, which supplies a `call` bound to the module's channel.
 * Nothing here is privileged: each function only turns a typed call into one protocol request.
 */
import type { ExecResult, BackupInfo, Method, Params, PermissionTarget, Results, ServiceStatus } from './protocol.js';

/** Sends one request and resolves to its result; rejects with an SdkError when the broker refuses. */
export type Call = <M extends Method>(method: M, params: Params<M>) => Promise<Results[M]>;

/** An error the broker returned: `code` is stable (see the README's error table), `message` says how to fix it. */
export class SdkError extends Error {
  override readonly name = 'SdkError';
  constructor(
    readonly code: string,
    message: string,
    readonly data: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Everything a module can import from 'updates-orchestrator/sdk'. */
export interface Sdk {
  log: {
    debug(message: string): Promise<void>;
    info(message: string): Promise<void>;
    warn(message: string): Promise<void>;
    error(message: string): Promise<void>;
  };
  permissions: {
    /** Applies owner, group and mode to each target (the seed's PermissionManager.set_permissions). */
    set(targets: PermissionTarget[]): Promise<{ changed: number }>;
    /** The seed's restore_service_permissions_simple: owner/group on the service's usual folders. */
    restoreServicePermissionsSimple(options: {
      owner: string | number;
      group?: string | number;
      configDir?: string;
      dataDir?: string;
      binaryPath?: string;
      dirMode?: number | string;
      binaryMode?: number | string;
    }): Promise<{ changed: number }>;
  };
  state: {
    /** Copies the paths into a new backup under the install root's state folder; keeps the last few per label. */
    backup(label: string, paths: string[]): Promise<BackupInfo>;
    /** Restores the newest backup of the label, after verifying every file's checksum. */
    restore(label: string): Promise<{ label: string; id: string; files: number }>;
    list(): Promise<BackupInfo[]>;
  };
  fs: {
    readFile(path: string): Promise<string>;
    /** Atomic: the file is either the old content or the new one. Resolves to whether the content changed. */
    writeFile(path: string, content: string, options?: { mode?: number | string }): Promise<boolean>;
    mkdir(path: string, options?: { mode?: number | string }): Promise<boolean>;
    remove(path: string): Promise<boolean>;
    exists(path: string): Promise<boolean>;
  };
  /** Runs a declared command (exact argv, no shell) and captures its output. */
  exec(argv: string[], options?: { input?: string; timeoutMs?: number }): Promise<ExecResult>;
  services: {
    restart(name: string): Promise<ServiceStatus>;
    reload(name: string): Promise<ServiceStatus>;
    status(name: string): Promise<ServiceStatus>;
  };
  /** The module's own `configuration` from its index.json, read-only. */
  config: Readonly<Record<string, unknown>>;
  /**
   * Time, from the orchestrator: a module's compartment has no working Date.now(), timers or randomness.
   * sleep() waits at most 60 s a call, and ends with the module's run.
   */
  clock: {
    now(): Promise<{ iso: string; epochMs: number }>;
    sleep(ms: number): Promise<void>;
  };
  /** A small persistent key-value store of this module's own. */
  store: {
    get<T extends JsonValue = JsonValue>(key: string): Promise<T | undefined>;
    set(key: string, value: JsonValue): Promise<void>;
    delete(key: string): Promise<boolean>;
    keys(): Promise<string[]>;
  };
}

/** Builds the SDK over a transport. */
export function createSdk(call: Call, configuration: Readonly<Record<string, unknown>>): Sdk {
  const logAt = (level: 'debug' | 'info' | 'warn' | 'error') => async (message: string) => {
    await call('log', { level, message: String(message) });
  };
  const permissions: Sdk['permissions'] = {
    set: (targets) => call('permissions.set', { targets }),
    restoreServicePermissionsSimple: (o) => {
      const targets: PermissionTarget[] = [];
      const dirMode = o.dirMode ?? 0o755;
      if (o.configDir !== undefined) targets.push({ path: o.configDir, owner: o.owner, group: o.group, mode: dirMode, recursive: true });
      if (o.dataDir !== undefined) targets.push({ path: o.dataDir, owner: o.owner, group: o.group, mode: dirMode, recursive: true });
      if (o.binaryPath !== undefined) {
        targets.push({ path: o.binaryPath, owner: 'root', group: 'root', mode: o.binaryMode ?? 0o755, target_type: 'file' });
      }
      if (targets.length === 0) return Promise.resolve({ changed: 0 });
      return permissions.set(targets);
    },
  };
  return {
    log: { debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') },
    permissions,
    state: {
      backup: (label, paths) => call('state.backup', { label, paths }),
      restore: (label) => call('state.restore', { label }),
      list: async () => (await call('state.list', {})).backups,
    },
    fs: {
      readFile: async (path) => (await call('fs.readFile', { path })).content,
      writeFile: async (path, content, options) =>
        (await call('fs.writeFile', { path, content, ...(options?.mode !== undefined ? { mode: options.mode } : {}) })).changed,
      mkdir: async (path, options) =>
        (await call('fs.mkdir', { path, ...(options?.mode !== undefined ? { mode: options.mode } : {}) })).created,
      remove: async (path) => (await call('fs.remove', { path })).removed,
      exists: async (path) => (await call('fs.exists', { path })).exists,
    },
    exec: (argv, options) => call('exec', { argv, ...options }),
    services: {
      restart: (name) => call('services.restart', { name }),
      reload: (name) => call('services.reload', { name }),
      status: (name) => call('services.status', { name }),
    },
    config: configuration,
    clock: {
      now: () => call('clock.now', {}),
      sleep: async (ms) => {
        await call('clock.sleep', { ms });
      },
    },
    store: {
      get: async <T extends JsonValue = JsonValue>(key: string) => (await call('store.get', { key })).value as T | undefined,
      set: async (key, value) => {
        await call('store.set', { key, value });
      },
      delete: async (key) => (await call('store.delete', { key })).deleted,
      keys: async () => (await call('store.keys', {})).keys,
    },
  };
}
