// Ends a child and everything it started: children are spawned detached, each the leader of its own group.
/** SIGKILLs the whole process group led by `pid`; a group that is already gone is fine. */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left in the group
  }
}
