/**
 * The typed SDK a module sees, built over a transport that carries protocol requests to the broker.
 *
 * `createSdk(call, configuration)` is used by the sandbox, which supplies a `call` bound to the module's channel.
 * Nothing here is privileged: each function only turns a typed call into one protocol request.
 */
import type { BackupInfo, ExecResult, Method, Params, PermissionTarget, Results, ServiceStatus } from './protocol.js';

/** Sends one request and resolves to its result; rejects with an SdkError when the broker refuses. */
export type Call = <M extends Method>(method: M, params: Params<M>) => Promise<Results[M]>;

/**
 * How an SDK call failed. Every SDK function rejects with an `SdkError` when the orchestrator refuses or
 * cannot do what was asked; the module decides whether that is fatal (return `{ success: false }`) or not.
 *
 * Codes a module meets (docs/errors.md lists every code with its message):
 * - `E_UNDECLARED_PATH`, `E_UNDECLARED_OWNER`, `E_SPECIAL_BITS`, `E_UNDECLARED_COMMAND`, `E_UNDECLARED_SERVICE`:
 *   the module's `index.json` does not declare what the call needs; the message names the missing declaration.
 * - `E_PATH_ESCAPE`: the path leaves its declared folder (through `..` or a symlink).
 * - `E_BAD_REQUEST`: an argument has the wrong shape (a relative path, a bad mode or label).
 * - `E_LIMIT`: a size or count limit (file size, store size, requests in flight) was reached.
 * - `E_NOT_FOUND`, `E_BACKUP_NOT_FOUND`, `E_BACKUP_CORRUPT`, `E_IO`: the file system said no.
 * - `E_RUN_ENDED`: the call arrived after the module's `main()` ended or its deadline passed.
 * - `E_NO_SANDBOX`: the SDK was called outside the orchestrator (run the module with `updates run-module DIR`).
 *
 * @example
 * ```ts
 * try {
 *   await fs.writeFile('/etc/app/app.conf', text);
 * } catch (err) {
 *   if (err instanceof SdkError && err.code === 'E_UNDECLARED_PATH') return { success: false, message: err.message };
 *   throw err;
 * }
 * ```
 */
export class SdkError extends Error {
  override readonly name = 'SdkError';
  /**
   * @param code - stable machine-readable code, e.g. `E_UNDECLARED_PATH`.
   * @param message - what went wrong and how to fix it, for a person.
   * @param data - details of the refusal (the path, the method), plain data.
   */
  constructor(
    readonly code: string,
    message: string,
    readonly data: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** A value the module's store can hold: JSON data (no `undefined`, functions, dates or typed arrays). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Log lines of the module: they go to the orchestrator's log (the journal, under systemd) and to the run
 * report, tagged with the module's name. Needs no declaration. Always `await` them: a line is written when its
 * promise resolves.
 */
export interface SdkLog {
  /** Writes a debug line (shown with `--log-level debug`). */
  debug(message: string): Promise<void>;
  /** Writes an info line. */
  info(message: string): Promise<void>;
  /** Writes a warning line. */
  warn(message: string): Promise<void>;
  /** Writes an error line; it does not fail the module (return `{ success: false }` for that). */
  error(message: string): Promise<void>;
}

/** Options of {@link SdkPermissions.restoreServicePermissionsSimple}. */
export interface ServicePermissionsOptions {
  /** Owner of `configDir` and `dataDir` (recursively): a user name or uid. */
  owner: string | number;
  /** Their group: a group name or gid (default: unchanged). */
  group?: string | number;
  /** The service's configuration folder, given `owner`, `group` and `dirMode` recursively. */
  configDir?: string;
  /** The service's data folder, given `owner`, `group` and `dirMode` recursively. */
  dataDir?: string;
  /** The service's binary: made `root:root` with `binaryMode`. */
  binaryPath?: string;
  /** Mode of the folders: a number (`0o755`, the default) or an octal string (`"750"`). */
  dirMode?: number | string;
  /** Mode of the binary (default `0o755`). */
  binaryMode?: number | string;
}

/**
 * Owners, groups and modes of files. Each path needs a `capabilities.paths` entry whose `access` has `"chown"`
 * (to change owner or group) or `"chmod"` (to change the mode), and whose `owners` / `groups` list every owner
 * and group set; setuid, setgid and sticky bits also need `"allow_special_bits": true`.
 */
export interface SdkPermissions {
  /**
   * Applies owner, group and mode to each target, recursively when `recursive` is true (the seed's
   * `PermissionManager.set_permissions`). Resolves to the number of files changed.
   * @throws {@link SdkError} `E_UNDECLARED_PATH`, `E_UNDECLARED_OWNER`, `E_SPECIAL_BITS`, `E_PATH_ESCAPE`, `E_NOT_FOUND`.
   */
  set(targets: PermissionTarget[]): Promise<{ changed: number }>;
  /**
   * The seed's `restore_service_permissions_simple`: owner and group on the service's usual folders, `root:root`
   * on its binary. Declares nothing of its own: it is `set()` with the targets the options describe.
   * @throws {@link SdkError} as {@link SdkPermissions.set}.
   */
  restoreServicePermissionsSimple(options: ServicePermissionsOptions): Promise<{ changed: number }>;
}

/**
 * Backups of files the module is about to change, kept under the install root's `state/backups/`, the last
 * three per label. Each path needs a `capabilities.paths` entry with `"backup"` access.
 */
export interface SdkState {
  /**
   * Copies the files and folders at `paths` into a new backup labelled `label` (letters, digits, `.`, `_`, `-`).
   * @throws {@link SdkError} `E_UNDECLARED_PATH`, `E_PATH_ESCAPE`, `E_NOT_FOUND`, `E_LIMIT`, `E_BAD_REQUEST`.
   */
  backup(label: string, paths: string[]): Promise<BackupInfo>;
  /**
   * Puts back the newest backup of `label`, after verifying every file's checksum (nothing is touched when one
   * does not verify). Writing the files back needs `"backup"` access to their paths.
   * @throws {@link SdkError} `E_BACKUP_NOT_FOUND`, `E_BACKUP_CORRUPT`, `E_UNDECLARED_PATH`.
   */
  restore(label: string): Promise<{ label: string; id: string; files: number; planned?: true | undefined }>;
  /** The module's backups. Needs no declaration. */
  list(): Promise<BackupInfo[]>;
}

/**
 * Files, as root, inside the module's declared paths only: reads need `"read"` access in a
 * `capabilities.paths` entry covering the path, the others `"write"`. Paths are absolute; symlinks that leave
 * the declared folder are refused. Files are at most 4 MB.
 */
export interface SdkFs {
  /**
   * The file's content, as UTF-8 text.
   * @throws {@link SdkError} `E_UNDECLARED_PATH`, `E_PATH_ESCAPE`, `E_NOT_FOUND`, `E_LIMIT`.
   */
  readFile(path: string): Promise<string>;
  /**
   * Writes the file atomically (readers see the old content or the new one, never a mix); its folder must
   * exist ({@link SdkFs.mkdir}). An existing file keeps its owner and mode unless `mode` is given; a new one is
   * `0o644`. Resolves to whether anything changed: use it to restart a service only when needed.
   * @param options - `mode`: a number (`0o640`) or an octal string (`"640"`).
   * @throws {@link SdkError} `E_UNDECLARED_PATH`, `E_PATH_ESCAPE`, `E_SPECIAL_BITS`, `E_NOT_FOUND`, `E_LIMIT`, `E_IO`.
   */
  writeFile(path: string, content: string, options?: { mode?: number | string }): Promise<boolean>;
  /**
   * Creates the folder and its missing parents; resolves to whether it was created (false: it existed).
   * @throws {@link SdkError} `E_UNDECLARED_PATH`, `E_PATH_ESCAPE`, `E_IO`.
   */
  mkdir(path: string, options?: { mode?: number | string }): Promise<boolean>;
  /**
   * Removes the file or folder (recursively); resolves to whether something was removed. The declared folder
   * itself cannot be removed.
   * @throws {@link SdkError} `E_UNDECLARED_PATH`, `E_PATH_ESCAPE`, `E_IO`.
   */
  remove(path: string): Promise<boolean>;
  /**
   * Whether something exists at the path.
   * @throws {@link SdkError} `E_UNDECLARED_PATH`, `E_PATH_ESCAPE`.
   */
  exists(path: string): Promise<boolean>;
}

/** Options of {@link Sdk.exec}. */
export interface ExecOptions {
  /** Text given to the command on its standard input. */
  input?: string;
  /** Deadline in ms (default 60 s); the command's process tree is killed then and `timedOut` is true. */
  timeoutMs?: number;
}

/**
 * Services, through systemd. Each name needs a `capabilities.services` entry (e.g. `"nginx"`); with
 * `--services record` (tests, `updates run-module`) requests are only recorded.
 */
export interface SdkServices {
  /**
   * Restarts the service (`systemctl restart`) and resolves to its state afterwards.
   * @throws {@link SdkError} `E_UNDECLARED_SERVICE`, `E_IO` (systemctl failed; the message has its output).
   */
  restart(name: string): Promise<ServiceStatus>;
  /**
   * Reloads the service's configuration (`systemctl reload`) and resolves to its state afterwards.
   * @throws {@link SdkError} `E_UNDECLARED_SERVICE`, `E_IO`.
   */
  reload(name: string): Promise<ServiceStatus>;
  /**
   * The service's state (`systemctl is-active`).
   * @throws {@link SdkError} `E_UNDECLARED_SERVICE`.
   */
  status(name: string): Promise<ServiceStatus>;
}

/**
 * Time, from the orchestrator: a module's compartment has no working `Date.now()`, timers or randomness.
 * Needs no declaration.
 */
export interface SdkClock {
  /** The current time, as ISO 8601 text and as milliseconds since the epoch. */
  now(): Promise<{ iso: string; epochMs: number }>;
  /**
   * Waits `ms` milliseconds, at most 60 000 a call (sleep in steps for longer, within the module's deadline).
   * @throws {@link SdkError} `E_RUN_ENDED` when the module's run ends first, `E_BAD_REQUEST` above 60 s.
   */
  sleep(ms: number): Promise<void>;
}

/**
 * A small persistent key-value store of the module's own (at most 1 MB of JSON in all), kept across runs and
 * updates under the install root. Needs no declaration; no module can read another's store.
 */
export interface SdkStore {
  /** The value stored under `key`, or `undefined` when there is none. `T` is what the module expects there. */
  get<T extends JsonValue = JsonValue>(key: string): Promise<T | undefined>;
  /**
   * Stores `value` under `key`, durably (written atomically before the promise resolves).
   * @throws {@link SdkError} `E_LIMIT` when the store would exceed its size, `E_BAD_REQUEST` for non-JSON data.
   */
  set(key: string, value: JsonValue): Promise<void>;
  /** Removes `key`; resolves to whether it existed. */
  delete(key: string): Promise<boolean>;
  /** The keys, sorted. */
  keys(): Promise<string[]>;
}

/**
 * Random values from the operating system's cryptographic generator (the sandbox has no `Math.random()` and no
 * `crypto`). Needs no declaration.
 */
export interface SdkRandom {
  /**
   * `bytes` random bytes (1 to 1024, default 16) as lower-case hex: a token, a password, a jitter.
   * @throws {@link SdkError} `E_BAD_REQUEST` for a count out of range.
   */
  hex(bytes?: number): Promise<string>;
  /** A random UUID (version 4), e.g. `"3b241101-e2bb-4255-8caf-4136c566a962"`. */
  uuid(): Promise<string>;
}

/**
 * How this run of the module goes. Needs no declaration.
 */
export interface SdkRun {
  /**
   * True in check mode (`updates run --check`, `updates run-module DIR --check`): the orchestrator plans instead
   * of acting. Reads work as usual; writes, `permissions.set`, backups and restores, store changes and service
   * restarts or reloads are reported as planned and not made; commands are not run (their result has
   * `planned: true`). A module normally needs no branch on this; use it to skip work that only makes sense
   * after a real change (e.g. waiting for a restarted service to come up).
   */
  readonly check: boolean;
}

/**
 * Everything a module can import from `updates-orchestrator/sdk`. Every call is a request to the orchestrator,
 * which checks it against the `capabilities` the module declares in its `index.json`, performs it as root and
 * audits it; anything not declared is refused with an {@link SdkError}.
 */
export interface Sdk {
  /** Log lines of the module. */
  log: SdkLog;
  /** Owners, groups and modes of declared files. */
  permissions: SdkPermissions;
  /** Backups and restores of declared files. */
  state: SdkState;
  /** Files inside declared paths. */
  fs: SdkFs;
  /**
   * Runs a command declared in `capabilities.commands` (the exact argv, e.g. `["systemctl", "daemon-reload"]`),
   * without a shell, and resolves to its exit code and captured output (at most 1 MB a stream). A non-zero exit
   * code is not an error: check `exitCode`.
   * @throws {@link SdkError} `E_UNDECLARED_COMMAND`, `E_IO` (the program cannot start), `E_LIMIT`.
   */
  exec: (argv: string[], options?: ExecOptions) => Promise<ExecResult>;
  /** Services the module declares. */
  services: SdkServices;
  /** The module's own `configuration` object from its `index.json`, read-only. */
  config: Readonly<Record<string, unknown>>;
  /** Time, and waiting. */
  clock: SdkClock;
  /** The module's persistent key-value store. */
  store: SdkStore;
  /** Random values. */
  random: SdkRandom;
  /** How this run goes: `run.check` is true when the orchestrator only plans. */
  run: SdkRun;
}

/** The namespaces of the SDK, each built when a module first reads it. */
type Namespaces = Omit<Sdk, 'config' | 'run' | 'exec'>;

/**
 * Builds the SDK over a transport (the sandbox's channel to the broker, or a stub for tests); `run` says whether it
 * is a check.
 *
 * Each namespace (`log`, `fs`, ...) is an accessor that builds it on first read and then always returns that same
 * object, passed once through `seal`: the sandbox gives `harden`, so a module pays for freezing only the namespaces
 * it uses (a fresh SDK per module run, most of which read one or two). The accessors are the object's own,
 * enumerable properties, so `import * as sdk`, destructuring and spreading see every namespace.
 */
export function createSdk(
  call: Call,
  configuration: Readonly<Record<string, unknown>>,
  run: SdkRun = { check: false },
  seal: <T>(value: T) => T = (value) => value,
): Sdk {
  const logAt = (level: 'debug' | 'info' | 'warn' | 'error') => async (message: string) => {
    await call('log', { level, message: String(message) });
  };
  const builders: { [K in keyof Namespaces]: () => Namespaces[K] } = {
    log: () => ({ debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') }),
    permissions: () => {
      const permissions: SdkPermissions = {
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
      return permissions;
    },
    state: () => ({
      backup: (label, paths) => call('state.backup', { label, paths }),
      restore: (label) => call('state.restore', { label }),
      list: async () => (await call('state.list', {})).backups,
    }),
    fs: () => ({
      readFile: async (path) => (await call('fs.readFile', { path })).content,
      writeFile: async (path, content, options) =>
        (await call('fs.writeFile', { path, content, ...(options?.mode !== undefined ? { mode: options.mode } : {}) })).changed,
      mkdir: async (path, options) => (await call('fs.mkdir', { path, ...(options?.mode !== undefined ? { mode: options.mode } : {}) })).created,
      remove: async (path) => (await call('fs.remove', { path })).removed,
      exists: async (path) => (await call('fs.exists', { path })).exists,
    }),
    services: () => ({
      restart: (name) => call('services.restart', { name }),
      reload: (name) => call('services.reload', { name }),
      status: (name) => call('services.status', { name }),
    }),
    clock: () => ({
      now: () => call('clock.now', {}),
      sleep: async (ms) => {
        await call('clock.sleep', { ms });
      },
    }),
    random: () => ({
      hex: async (bytes = 16) => (await call('random.bytes', { bytes })).hex,
      uuid: async () => uuidOf((await call('random.bytes', { bytes: 16 })).hex),
    }),
    store: () => ({
      get: async <T extends JsonValue = JsonValue>(key: string) => (await call('store.get', { key })).value as T | undefined,
      set: async (key, value) => {
        await call('store.set', { key, value });
      },
      delete: async (key) => (await call('store.delete', { key })).deleted,
      keys: async () => (await call('store.keys', {})).keys,
    }),
  };
  const sdk = {
    exec: (argv: string[], options?: ExecOptions) => call('exec', { argv, ...options }),
    config: configuration,
    run: Object.freeze({ check: run.check }),
  } as Sdk;
  for (const name of Object.keys(builders) as (keyof Namespaces)[]) {
    let built: Namespaces[typeof name] | undefined;
    Object.defineProperty(sdk, name, {
      get: () => (built ??= seal(builders[name]())),
      enumerable: true,
    });
  }
  return sdk;
}

/** A version 4 UUID from 32 random hex digits: the version nibble 4, the variant bits 10. */
function uuidOf(hex: string): string {
  const v = `${hex.slice(0, 12)}4${hex.slice(13, 16)}${((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 32)}`;
  return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20, 32)}`;
}
