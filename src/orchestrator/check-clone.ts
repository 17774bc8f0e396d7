/**
 * Check mode changes nothing on disk: it fetches into a throwaway bare clone in the temp folder, which borrows
 * the private clone's objects read-only (git alternates), so only what is new is transferred and the private
 * clone is never fetched into, re-pointed or re-made.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gitAt } from './git.js';

/** Makes the throwaway clone for `url` and returns its folder; the caller removes it with removeCheckClone. */
export async function makeCheckClone(privateClone: string, url: string): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'updates-check-'));
  const git = await gitAt(dir);
  await git.init(true);
  await git.addRemote('origin', url);
  const objects = path.join(path.resolve(privateClone), 'objects');
  if (await fsp.stat(path.join(objects, 'pack')).then((s) => s.isDirectory(), () => false)) {
    await fsp.writeFile(path.join(dir, 'objects', 'info', 'alternates'), `${objects}\n`);
  }
  return dir;
}

export async function removeCheckClone(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await fsp.rm(dir, { recursive: true, force: true });
}
