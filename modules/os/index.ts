/**
 * os: runs a declared command (uname -sr) and remembers its answer in the module's store, so a kernel
 * change between cycles is reported once.
 */
import { exec, log, store } from 'updates-orchestrator/sdk';

export async function main(): Promise<{ success: boolean; changed: boolean; message: string }> {
  const res = await exec(['uname', '-sr']);
  if (res.exitCode !== 0) return { success: false, changed: false, message: `uname failed: ${res.stderr.trim()}` };
  const kernel = res.stdout.trim();
  const before = await store.get<string>('kernel');
  if (before === kernel) return { success: true, changed: false, message: kernel };
  await store.set('kernel', kernel);
  await log.info(before === undefined ? `kernel ${kernel}` : `kernel changed: ${before} → ${kernel}`);
  return { success: true, changed: true, message: kernel };
}
