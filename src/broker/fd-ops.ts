// File operations on entries the descriptor walk resolved: open without following or blocking, read, atomic write,
// owner and mode through the descriptor, mkdir. Creating and replacing go through the verified parent folder.
import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { UpdatesError } from '../core/errors.js';
import { fdPath, lstatAt, mkdirAt } from './fd-walk.js';
import type { Entry, FdWalk } from './fd-walk.js';
import { errnoCode } from '../core/errno.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY, O_DIRECTORY } = constants;

/** What an opened entry may be. */
export interface OpenWant {
  file?: boolean;
  dir?: boolean;
  /** Refuse a regular file with more than one name (a hard link may be a file outside the grant). */
  single?: boolean;
}

/** An opened entry: its descriptor and fstat. */
export interface Opened {
  fh: FileHandle;
  st: Stats;
  view: string;
}

function notFound(w: FdWalk, view: string): UpdatesError {
  return new UpdatesError('E_NOT_FOUND', { method: w.method, path: w.target.view, detail: `${view}: no such file or directory` });
}

/** Refuses by lstat what may not be opened: symlinks, special files, hard-linked files when `single`. */
export function checkKind(w: FdWalk, view: string, st: Stats, want: OpenWant): void {
  if (st.isSymbolicLink()) throw w.fail(`${view} is a symlink (swapped in during the operation?)`);
  const ok = (want.file === true && st.isFile()) || (want.dir === true && st.isDirectory());
  if (!ok) {
    const kind = st.isFile() ? 'a file' : st.isDirectory() ? 'a directory' : 'a FIFO, socket or device';
    throw new UpdatesError('E_IO', { method: w.method, detail: `${view} is ${kind}, which this operation does not handle` });
  }
  if (want.single === true && st.isFile() && st.nlink > 1) {
    throw w.fail(`${view} is a hard link (${st.nlink} names): it may be a file outside the grant, so it is refused`);
  }
}

/**
 * Opens `name` in `dir` after checking its kind by lstat, without following a symlink, without blocking on a
 * FIFO, and verifies that the descriptor is the inode that was checked.
 */
export async function openAt(w: FdWalk, e: Entry, want: OpenWant): Promise<Opened> {
  w.checkRun();
  const before = e.stat ?? (await lstatAt(e.parent, e.name));
  if (before === undefined) throw notFound(w, e.view);
  checkKind(w, e.view, before, want);
  let fh: FileHandle;
  try {
    fh = await fsp.open(fdPath(e.parent.fh, e.name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | (before.isDirectory() ? O_DIRECTORY : 0));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw notFound(w, e.view);
    if (errnoCode(err) === 'ELOOP' || errnoCode(err) === 'ENOTDIR') throw w.fail(`${e.view} was swapped for a symlink during the operation`);
    throw err;
  }
  try {
    const st = await fh.stat();
    if (st.ino !== before.ino || st.dev !== before.dev) throw w.fail(`${e.view} was swapped during the operation`);
    checkKind(w, e.view, st, want);
    await w.checkInside(e.parent);
    if (w.isOwn(st)) throw w.fail("it reaches the orchestrator's own files, which no grant covers");
    return { fh, st, view: e.view };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** Reads a regular file of one name and at most `maxBytes`. */
export async function readAt(w: FdWalk, e: Entry, maxBytes: number): Promise<Buffer> {
  const { fh, st } = await openAt(w, e, { file: true, single: true });
  try {
    if (st.size > maxBytes) throw new UpdatesError('E_LIMIT', { method: w.method, detail: `${e.view} is ${st.size} bytes, more than the limit of ${maxBytes}` });
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (let r = -1; r !== 0 && n <= maxBytes; n += r) r = (await fh.read(buf, n, buf.length - n, n)).bytesRead;
    if (n > maxBytes) throw new UpdatesError('E_LIMIT', { method: w.method, detail: `${e.view} grew past the limit of ${maxBytes} bytes while read` });
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

/** What an atomic write sets on the new file. */
export interface WriteAttrs {
  mode: number;
  uid?: number;
  gid?: number;
}

/**
 * Writes `data` atomically in the entry's open parent folder: a temp file (O_EXCL|O_NOFOLLOW) created through the
 * folder's descriptor, owner and mode set on the file's descriptor, fsync, rename over the name in the same folder
 * (which replaces a symlink swapped in meanwhile rather than writing through it), fsync of the folder.
 */
export async function writeAt(w: FdWalk, e: Entry, data: Uint8Array | string, attrs: WriteAttrs): Promise<void> {
  w.checkRun();
  const tmp = fdPath(e.parent.fh, `.${e.name.slice(0, 200)}.broker-${randomBytes(6).toString('hex')}`);
  try {
    const fh = await fsp.open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      await fh.writeFile(data);
      if (attrs.uid !== undefined || attrs.gid !== undefined) await fh.chown(attrs.uid ?? -1, attrs.gid ?? -1);
      await fh.chmod(attrs.mode); // after chown, which would clear setuid/setgid
      await fh.sync();
    } finally {
      await fh.close();
    }
    w.checkRun();
    await w.checkInside(e.parent);
    await fsp.rename(tmp, fdPath(e.parent.fh, e.name));
    await e.parent.fh.sync();
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    if (errnoCode(err) === 'EISDIR') throw new UpdatesError('E_IO', { method: w.method, detail: `${e.view} is a directory` });
    throw err;
  }
}

/** Owner and mode wanted on one entry; undefined fields stay as they are. */
export interface Ownership {
  uid?: number;
  gid?: number;
  mode?: number;
}

/** Applies owner/group/mode on an open descriptor (fchown/fchmod), only where different; resolves to whether anything changed. */
export async function applyOwnership(o: Opened, want: Ownership): Promise<boolean> {
  const { fh, st } = o;
  const uid = want.uid ?? st.uid;
  const gid = want.gid ?? st.gid;
  let changed = false;
  if (uid !== st.uid || gid !== st.gid) {
    await fh.chown(uid, gid);
    changed = true;
  }
  if (want.mode !== undefined && (changed || (st.mode & 0o7777) !== want.mode)) {
    // chown clears setuid/setgid, so the mode is re-applied after any chown
    if ((st.mode & 0o7777) !== want.mode) changed = true;
    await fh.chmod(want.mode);
  }
  return changed;
}

/** mkdir -p inside the grant; the last folder gets `mode` when it was created. Resolves to whether it was created. */
export async function mkdirPath(w: FdWalk, mode: number | undefined): Promise<boolean> {
  const e = await w.resolve({ follow: true, create: true });
  const created = e.stat === undefined && (await mkdirAt(e.parent, e.name));
  const o = await openAt(w, { ...e, stat: undefined }, { dir: true });
  try {
    if (created && mode !== undefined) await o.fh.chmod(mode); // explicit, so the umask does not apply
  } finally {
    await o.fh.close();
  }
  return created;
}
