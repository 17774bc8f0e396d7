// Starts the sandbox process: the sandbox user, its own process group, the permission model, memory caps.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import type { HostBundle } from './bundle-host.js';
import type { SandboxUser } from './sandbox-user.js';

/** Where util-linux's prlimit may be; it sets RLIMIT_DATA and then execs node, so the pid stays the same. */
const PRLIMIT_PATHS = ['/usr/bin/prlimit', '/bin/prlimit'];

/** `--permission` is the stable name from Node 22.13 / 23.5; Node 20 only knows the experimental one. */
export function permissionFlag(version = process.versions.node): string {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const stable = major >= 24 || (major === 23 && minor >= 5) || (major === 22 && minor >= 13);
  return stable ? '--permission' : '--experimental-permission';
}

/**
 * Whether RLIMIT_DATA can cap this Node. From Node 22 on, V8 reserves each worker isolate's code range as
 * memory that RLIMIT_DATA counts, so under any useful limit a worker cannot even start (measured on Node 24:
 * "Failed to reserve virtual memory for CodeRange"); there, the memory cgroup is the cap.
 */
export function rlimitDataUsable(): boolean {
  return Number(process.versions.node.split('.')[0]) < 22;
}

/** The prlimit binary, if installed. */
export function findPrlimit(): string | undefined {
  return PRLIMIT_PATHS.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** How to start one sandbox process. */
export interface HostSpawnOptions {
  bundle: HostBundle;
  user: SandboxUser;
  /** Workers per memory class inside the process. */
  size: number;
  /** RLIMIT_DATA of the process, MB; undefined: none (no prlimit). */
  dataLimitMb: number | undefined;
}

/**
 * The node command line of the sandbox process. The permission model grants reading the bundle folder only:
 * no write, no child processes, no addons, no inspector; workers are allowed because piscina needs them, and
 * they inherit these limits because the pool gives them no execArgv. The two warnings are expected, not news.
 */
export function hostArgs(bundle: HostBundle, size: number): string[] {
  return [
    permissionFlag(),
    `--allow-fs-read=${bundle.dir}`,
    '--allow-worker',
    '--disable-warning=ExperimentalWarning',
    '--disable-warning=SecurityWarning',
    bundle.hostFile,
    bundle.workerFile,
    String(size),
  ];
}

/**
 * Spawns the sandbox process as `user`, detached (its own process group, so one kill ends it and every thread
 * and anything it might have started), with an empty environment, cwd `/`, stdin closed, and an IPC channel with
 * structured-clone serialization (the same cloning a worker's postMessage does).
 */
export function spawnHost(options: HostSpawnOptions): ChildProcess {
  const args = hostArgs(options.bundle, options.size);
  const prlimit = options.dataLimitMb !== undefined ? findPrlimit() : undefined;
  const [file, argv] =
    prlimit !== undefined && options.dataLimitMb !== undefined
      ? [prlimit, [`--data=${options.dataLimitMb * 1024 * 1024}`, '--', process.execPath, ...args]]
      : [process.execPath, args];
  return spawn(file, argv, {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
    uid: options.user.uid,
    gid: options.user.gid,
    detached: true,
    env: {},
    cwd: '/',
  });
}

