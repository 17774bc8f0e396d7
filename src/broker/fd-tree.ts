// Tree operations of the descriptor walk: visit a tree, remove a tree. Each folder is listed and entered through
// its own descriptor, never by path, so a folder swapped for a symlink mid-walk is refused, not followed.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UpdatesError } from '../core/errors.js';
import { applyOwnership, openAt } from './fd-ops.js';
import type { Opened } from './fd-ops.js';
import { fdPath, lstatAt } from './fd-walk.js';
import type { Dir, Entry, FdWalk } from './fd-walk.js';
import { errnoCode } from '../core/errno.js';

/** Deepest tree a walk enters (each level holds one descriptor). */
const MAX_DEPTH = 256;

/** Called for each file and folder of a walk (folders before their content), with its open descriptor. */
export type Visit = (o: Opened) => Promise<void>;

function tooDeep(w: FdWalk, view: string): UpdatesError {
  return new UpdatesError('E_LIMIT', { method: w.method, detail: `${view} is nested deeper than ${MAX_DEPTH} folders` });
}

/** The names in an open folder, sorted. */
async function namesOf(dir: Dir): Promise<string[]> {
  return (await fsp.readdir(fdPath(dir.fh))).sort();
}

/** Opens folder `name` of `parent` and checks it is the one `seen` described: a folder swapped since is refused. */
async function openSeenDir(w: FdWalk, parent: Dir | undefined, name: string, view: string, seen: { ino: number; dev: number }): Promise<Dir> {
  const dir = await w.openDir(parent, name, view);
  if (dir.st.ino !== seen.ino || dir.st.dev !== seen.dev) throw w.fail(`${view} was swapped during the operation`);
  return dir;
}

/**
 * Walks the tree at `top` (a resolved entry). The top must be a regular file of one name or a folder; below it,
 * symlinks, special files and hard-linked files are not visited: their module paths are pushed to `skipped`.
 */
export async function walkTree(w: FdWalk, top: Entry, visit: Visit, skipped: string[]): Promise<void> {
  const o = await openAt(w, top, { file: true, dir: true, single: true });
  try {
    await visit(o);
  } finally {
    await o.fh.close();
  }
  if (!o.st.isDirectory()) return;
  const dir = await openSeenDir(w, top.parent, top.name, top.view, o.st);
  await walkDir(w, dir, visit, skipped, 1);
}

async function walkDir(w: FdWalk, dir: Dir, visit: Visit, skipped: string[], depth: number): Promise<void> {
  if (depth > MAX_DEPTH) throw tooDeep(w, dir.view);
  try {
    for (const name of await namesOf(dir)) {
      w.checkRun();
      const view = path.posix.join(dir.view, name);
      const st = await lstatAt(dir, name);
      if (st === undefined) continue;
      if (st.isSymbolicLink() || !(st.isFile() || st.isDirectory()) || (st.isFile() && st.nlink > 1)) {
        skipped.push(view);
        continue;
      }
      if (st.isFile()) {
        const o = await openAt(w, { parent: dir, name, view, stat: st }, { file: true, single: true });
        try {
          await visit(o);
        } finally {
          await o.fh.close();
        }
        continue;
      }
      const child = await openSeenDir(w, dir, name, view, st);
      await w.checkInside(child);
      await visit({ fh: child.fh, st: child.st, view });
      await walkDir(w, child, visit, skipped, depth + 1);
    }
  } finally {
    await w.closeDir(dir);
  }
}

/** Applies owner/mode to every entry of a walk; resolves to how many changed. */
export async function applyTree(w: FdWalk, top: Entry, want: Parameters<typeof applyOwnership>[1], skipped: string[]): Promise<number> {
  let changed = 0;
  await walkTree(w, top, async (o) => {
    w.checkRun();
    if (await applyOwnership(o, want)) changed += 1;
  }, skipped);
  return changed;
}

/**
 * Removes the entry: a file or symlink is unlinked (never followed); a folder is emptied through its own
 * descriptor, depth first, then removed. Resolves to whether anything was there.
 */
export async function removeEntry(w: FdWalk, e: Entry): Promise<boolean> {
  if (e.stat === undefined) return false;
  if (!e.stat.isDirectory()) {
    await unlinkAt(w, e.parent, e.name, e.view);
    return true;
  }
  const dir = await openSeenDir(w, e.parent, e.name, e.view, e.stat);
  await emptyDir(w, dir, 1);
  await rmdirAt(w, e.parent, e.name, e.view);
  return true;
}

async function emptyDir(w: FdWalk, dir: Dir, depth: number): Promise<void> {
  if (depth > MAX_DEPTH) throw tooDeep(w, dir.view);
  try {
    for (const name of await namesOf(dir)) {
      w.checkRun();
      const view = path.posix.join(dir.view, name);
      const st = await lstatAt(dir, name);
      if (st === undefined) continue;
      if (!st.isDirectory()) {
        await unlinkAt(w, dir, name, view);
        continue;
      }
      const child = await openSeenDir(w, dir, name, view, st);
      await w.checkInside(child);
      await emptyDir(w, child, depth + 1);
      await rmdirAt(w, dir, name, view);
    }
  } finally {
    await w.closeDir(dir);
  }
}

/** unlink of a name in an open folder: removes a symlink itself; a folder swapped in is refused (EISDIR). */
async function unlinkAt(w: FdWalk, dir: Dir, name: string, view: string): Promise<void> {
  w.checkRun();
  try {
    await fsp.unlink(fdPath(dir.fh, name));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    if (errnoCode(err) === 'EISDIR' || errnoCode(err) === 'EPERM') throw w.fail(`${view} was swapped for a folder during the operation`);
    throw err;
  }
}

/** rmdir of a name in an open folder: a symlink swapped in is not followed (ENOTDIR). */
async function rmdirAt(w: FdWalk, dir: Dir, name: string, view: string): Promise<void> {
  w.checkRun();
  try {
    await fsp.rmdir(fdPath(dir.fh, name));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    if (errnoCode(err) === 'ENOTDIR') throw w.fail(`${view} was swapped for a symlink during the operation`);
    if (errnoCode(err) === 'ENOTEMPTY') throw new UpdatesError('E_IO', { method: w.method, detail: `${view} was refilled during the removal` });
    throw err;
  }
}
