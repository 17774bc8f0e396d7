// A memory cgroup (v1 or v2) for the sandbox process: caps off-heap growth that V8's heap limits do not see.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../../core/errno.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** A created cgroup holding one sandbox process. */
export interface MemoryCgroup {
  dir: string;
  version: 1 | 2;
  /** Moves a process into the cgroup (main writes it: the sandbox user may not). */
  attach(pid: number): Promise<void>;
  /** How many times the kernel's OOM killer ran in this cgroup. */
  oomKills(): Promise<number>;
  /** Removes the cgroup once its processes are gone; retries briefly while the kernel reaps them. */
  remove(): Promise<void>;
}

/**
 * Where this process's own memory cgroup is, from /proc/self/cgroup: children are made under it. Read, like the
 * cgroup made below, with direct system calls: a run waits for them before the sandbox process starts, and a
 * thread-pool round trip per call costs more than the calls.
 */
async function ownMemoryCgroup(): Promise<{ dir: string; version: 1 | 2 } | undefined> {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const v1 = lines.map((l) => l.split(':')).find((f) => f[1]?.split(',').includes('memory'));
  if (v1?.[2] !== undefined) return { dir: path.join(CGROUP_ROOT, 'memory', v1[2]), version: 1 };
  const v2 = lines.find((l) => l.startsWith('0::'));
  if (v2 !== undefined && existsSync(path.join(CGROUP_ROOT, 'cgroup.controllers'))) return { dir: path.join(CGROUP_ROOT, v2.slice(3)), version: 2 };
  return undefined;
}

/** This process's own memory cgroup folder, or undefined when no memory controller is mounted. */
export async function ownMemoryCgroupDir(): Promise<string | undefined> {
  return (await ownMemoryCgroup())?.dir;
}

const FILES = {
  1: { limit: 'memory.limit_in_bytes', swapLimit: 'memory.memsw.limit_in_bytes', events: 'memory.oom_control' },
  2: { limit: 'memory.max', swapLimit: 'memory.swap.max', events: 'memory.events' },
} as const;

/**
 * Creates `<own cgroup>/<name>` with a memory cap of `limitMb` (swap included where the kernel accounts it, so
 * the cap cannot be dodged by swapping). Throws when cgroups are not writable here (not root, a read-only
 * mount, v2 without the memory controller delegated); the caller logs that and runs without a cap.
 */
export async function createMemoryCgroup(name: string, limitMb: number): Promise<MemoryCgroup> {
  const own = await ownMemoryCgroup();
  if (own === undefined) throw new Error('no memory cgroup controller is mounted');
  const dir = path.join(own.dir, name);
  const files = FILES[own.version];
  mkdirSync(dir);
  try {
    writeFileSync(path.join(dir, files.limit), String(limitMb * 1024 * 1024));
    // The swap file only exists with swap accounting; v1 wants memory+swap >= memory, v2 wants swap alone.
    const swap = own.version === 1 ? String(limitMb * 1024 * 1024) : '0';
    if (existsSync(path.join(dir, files.swapLimit))) {
      try {
        writeFileSync(path.join(dir, files.swapLimit), swap);
      } catch {
        /* no swap cap where the kernel refuses one: the memory cap still holds */
      }
    }
  } catch (err) {
    try {
      rmdirSync(dir);
    } catch {
      /* removed by leftovers.ts on a later run */
    }
    throw err;
  }
  return {
    dir,
    version: own.version,
    // Through the thread pool: the kernel's move of a process between cgroups can take a while (about 14 ms
    // measured on a cgroup v1 host), during which main goes on.
    attach: (pid) => writeFile(path.join(dir, 'cgroup.procs'), String(pid)),
    async oomKills() {
      const text = await readFile(path.join(dir, files.events), 'utf8').catch(() => '');
      return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
    },
    remove: () => removeWithRetry(dir),
  };
}

async function removeWithRetry(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return;
      // EBUSY while a killed process is still being reaped.
      if (code !== 'EBUSY' || attempt >= 20) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
