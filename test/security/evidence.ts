// Evidence an attack leaves or not: hashes of watched files, processes carrying a marker, loot and secrets on disk.
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** A file's bytes, owner and mode, or its absence, as one comparable string. */
export function fileState(file: string): string {
  try {
    const st = lstatSync(file);
    const head = `uid=${st.uid} gid=${st.gid} mode=${(st.mode & 0o7777).toString(8)}`;
    if (st.isSymbolicLink()) return `${head} link=${readlinkSync(file)}`;
    if (st.isDirectory()) return `${head} dir=[${readdirSync(file).sort().join(',')}]`;
    return `${head} sha256=${createHash('sha256').update(readFileSync(file)).digest('hex')}`;
  } catch (err) {
    return `absent (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
  }
}

/** Snapshots several files; compare two snapshots with `changedFiles`. */
export function snapshot(files: readonly string[]): Map<string, string> {
  return new Map(files.map((f) => [f, fileState(f)]));
}

/** The files whose state differs between two snapshots. */
export function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...before.keys()].filter((f) => before.get(f) !== after.get(f)).map((f) => `${f}: ${before.get(f)} -> ${after.get(f)}`);
}

/** A process as /proc shows it. */
export interface ProcInfo {
  pid: number;
  ppid: number;
  cmdline: string;
}

/** Every process of the host (processes that vanish while listed are skipped). */
export function listProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').join(' ').trim();
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      // The command name in parentheses may hold spaces: the fields after the last ")" are fixed.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.push({ pid: Number(entry), ppid, cmdline });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Processes whose command line holds `marker`, or whose parent is `parentPid` (children left behind). */
export function leftoverProcesses(marker: string, parentPid: number): ProcInfo[] {
  // esbuild's service process is the orchestrator's own build helper, started by Phase 1; it is no module's.
  const ownChild = (p: ProcInfo): boolean => p.ppid === parentPid && !p.cmdline.includes('/@esbuild/');
  return listProcesses().filter((p) => p.pid !== process.pid && (p.cmdline.includes(marker) || ownChild(p)));
}

/**
 * Files under `dir` whose bytes contain `needle`, skipping the folders in `skip` (host paths). Symlinks are not
 * followed; files larger than 16 MB are skipped (nothing the suite looks for is that big).
 */
export function filesContaining(dir: string, needle: string, skip: readonly string[] = []): string[] {
  const found: string[] = [];
  const bytes = Buffer.from(needle);
  const walk = (d: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e);
      if (skip.some((s) => p === s || p.startsWith(`${s}/`))) continue;
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && st.size < 16 * 1024 * 1024 && readFileSync(p).includes(bytes)) found.push(p);
    }
  };
  walk(dir);
  return found;
}
