// Removes what a sandbox of a killed orchestrator left behind (its memory cgroup, its bundle folder), so that
// runs after crashes do not pile them up. Both carry the pid of the orchestrator that made them.
import { readdir, rm, rmdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ownMemoryCgroupDir } from './cgroup.js';
import { errnoCode } from '../../core/errno.js';

/** Names made by this module's callers: updates-sandbox-<orchestrator pid>-<random>. */
const LEFTOVER_RE = /^updates-sandbox-(\d+)-[A-Za-z0-9]+$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** The entries of `dir` left by orchestrators that are no longer running. */
async function stale(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries.filter((e) => {
    const pid = Number(LEFTOVER_RE.exec(e)?.[1]);
    return Number.isInteger(pid) && pid !== process.pid && !alive(pid);
  });
}

/** Removes stale cgroups (only empty ones can go: the kernel refuses others) and stale bundle folders. */
export async function removeLeftovers(): Promise<string[]> {
  const removed: string[] = [];
  const cgroups = await ownMemoryCgroupDir();
  if (cgroups !== undefined) {
    for (const e of await stale(cgroups)) {
      if (await rmdir(path.join(cgroups, e)).then(() => true, () => false)) removed.push(path.join(cgroups, e));
    }
  }
  for (const e of await stale(os.tmpdir())) {
    await rm(path.join(os.tmpdir(), e), { recursive: true, force: true });
    removed.push(path.join(os.tmpdir(), e));
  }
  return removed;
}
