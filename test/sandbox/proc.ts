// Test helpers that look at processes through /proc: the sandbox processes of this test process, their groups.
import { readdirSync, readFileSync } from 'node:fs';

/** The text of /proc/<pid>/<file>, or undefined when the process is gone. */
function procFile(pid: number | string, file: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

const pids = (): number[] => readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number);

/** One field of /proc/<pid>/status (e.g. "Uid"), as its whitespace-separated values. */
export function statusField(pid: number, field: string): string[] | undefined {
  const line = procFile(pid, 'status')?.split('\n').find((l) => l.startsWith(`${field}:`));
  return line?.slice(field.length + 1).trim().split(/\s+/).filter((v) => v !== '');
}

/** The process group of `pid` (field 5 of /proc/<pid>/stat, after the parenthesised name). */
export function processGroup(pid: number): number | undefined {
  const stat = procFile(pid, 'stat');
  if (stat === undefined) return undefined;
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

/** Sandbox processes started by this test process: children whose command line runs the bundled host. */
export function sandboxHosts(): number[] {
  return pids().filter((pid) => {
    const cmdline = procFile(pid, 'cmdline') ?? '';
    return cmdline.includes('/updates-sandbox-') && cmdline.includes('host.cjs') && statusField(pid, 'PPid')?.[0] === String(process.pid);
  });
}

/** Every live process in process group `group` (zombies count: they are not reaped yet). */
export function groupMembers(group: number): number[] {
  return pids().filter((pid) => processGroup(pid) === group);
}

/** The command line of `pid`, split into its arguments ([] when it is gone). */
export function commandLine(pid: number): string[] {
  return (procFile(pid, 'cmdline') ?? '').split('\0').filter((a) => a !== '');
}

/** The sandbox cgroups (updates-sandbox-<this pid>-*) under this process's own v1 memory cgroup, if any. */
export function ownMemoryCgroupChildren(): string[] {
  const line = (procFile('self', 'cgroup') ?? '').split('\n').find((l) => l.split(':')[1]?.split(',').includes('memory'));
  const dir = `/sys/fs/cgroup/memory${line?.split(':')[2] ?? '/'}`;
  try {
    return readdirSync(dir).filter((name) => name.startsWith(`updates-sandbox-${process.pid}-`));
  } catch {
    return [];
  }
}
