// Paths no module grant may ever reach, shared by the manifest check (install time) and the broker (run time).
/** Kernel file systems: through them a module would read the root orchestrator's own environment and memory. */
export const KERNEL_FILESYSTEMS: readonly string[] = ['/proc', '/sys', '/dev'];

/** True when `p` (absolute, normalised) is a kernel file system or below one. */
export function isKernelPath(p: string): boolean {
  return KERNEL_FILESYSTEMS.some((k) => p === k || p.startsWith(`${k}/`));
}
