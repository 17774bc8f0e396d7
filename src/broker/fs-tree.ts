// Tree operations of the fs layer: mkdir inside a grant, remove a file or tree, walk a tree without following symlinks.
import { promises as fsp } from 'node:fs';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { UpdatesError } from '../core/errors.js';
import { assertChecked, fdPath, lstatChecked, mapFsError, openCheckedDir } from './fs-ops.js';
import { childOf, escapeError, parentOf } from './paths.js';
import type { CheckedPath } from './paths.js';
import { sysCode } from './wire.js';

/** Host folders from the grant root down to the target: the only folders mkdir may create. */
function chainFromRoot(checked: CheckedPath): string[] {
  const rel = path.relative(checked.realRoot, checked.host);
  const chain = [checked.realRoot];
  for (const part of rel === '' ? [] : rel.split(path.sep)) chain.push(path.join(chain[chain.length - 1] ?? '', part));
  return chain;
}

/** Creates one folder; an existing one must be a real folder, never a symlink planted on the way. */
async function mkdirOne(dir: string, checked: CheckedPath, method: string): Promise<boolean> {
  try {
    await fsp.mkdir(dir, 0o755);
    return true;
  } catch (err) {
    if (sysCode(err) === 'ENOENT') {
      throw new UpdatesError('E_NOT_FOUND', { method, path: checked.view, detail: 'the folder above the declared root does not exist' });
    }
    if (sysCode(err) !== 'EEXIST') throw mapFsError(err, checked, method);
  }
  const st = await fsp.lstat(dir);
  if (st.isSymbolicLink()) throw escapeError(method, checked.view, checked.grant.path, 'a symlink appeared on the way');
  if (!st.isDirectory()) throw new UpdatesError('E_IO', { method, detail: `${checked.view}: a component exists and is not a directory` });
  return false;
}

/** mkdir -p inside the grant, one component at a time. Resolves to whether the target was created. */
export async function mkdirChecked(checked: CheckedPath, mode: number | undefined, method: string): Promise<boolean> {
  assertChecked(checked);
  let created = false;
  for (const dir of chainFromRoot(checked)) created = await mkdirOne(dir, checked, method);
  const fh = await openCheckedDir(checked, method);
  try {
    if (created && mode !== undefined) await fh.chmod(mode); // explicit, so the umask does not apply
  } finally {
    await fh.close();
  }
  return created;
}

/**
 * Removes a file, symlink or tree. The checked path was resolved without following its last component, so
 * a symlink is removed itself; rm's recursive walk does not follow symlinks either.
 */
export async function removeChecked(checked: CheckedPath, method: string): Promise<boolean> {
  assertChecked(checked);
  if ((await lstatChecked(checked)) === undefined) return false;
  const parent = await openCheckedDir(parentOf(checked), method); // verified, and removed from through its descriptor
  try {
    await fsp.rm(fdPath(parent, path.basename(checked.host)), { recursive: true, force: false });
  } catch (err) {
    throw mapFsError(err, checked, method);
  } finally {
    await parent.close();
  }
  return true;
}

/** Called for each file and folder of a walk (folders before their content). */
export type Visit = (entry: CheckedPath, stat: Stats) => Promise<void>;

/**
 * Walks a tree without following symlinks. Symlinks and special files are not visited: their module paths
 * are pushed to `skipped` so the caller can report them. The listing is read through the verified folder
 * descriptor, and every entry is re-verified when the visitor opens it.
 */
export async function walkChecked(top: CheckedPath, method: string, visit: Visit, skipped: string[]): Promise<void> {
  const st = await lstatChecked(top);
  if (st === undefined) throw mapFsError(Object.assign(new Error('gone'), { code: 'ENOENT' }), top, method);
  if (st.isSymbolicLink() || !(st.isDirectory() || st.isFile())) {
    skipped.push(top.view);
    return;
  }
  await visit(top, st);
  if (!st.isDirectory()) return;
  const fh = await openCheckedDir(top, method);
  let names: string[];
  try {
    names = (await fsp.readdir(fdPath(fh))).sort();
  } finally {
    await fh.close();
  }
  for (const name of names) await walkChecked(childOf(top, name), method, visit, skipped);
}
