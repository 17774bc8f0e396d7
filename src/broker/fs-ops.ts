// The fs layer: the only code that touches module paths, and only through CheckedPaths and verified descriptors.
import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { UpdatesError } from '../core/errors.js';
import { escapeError, isChecked, parentOf, verifyFd } from './paths.js';
import type { CheckedPath } from './paths.js';
import { sysCode } from './wire.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_DIRECTORY } = constants;

/** Refuses anything that is not a CheckedPath issued by the checker (a cast cannot forge one). */
export function assertChecked(p: CheckedPath): void {
  if (!isChecked(p)) throw new UpdatesError('E_INTERNAL', { detail: 'unchecked path reached the fs layer' });
}

/** Maps system errors of an operation on `checked` to catalogue errors in the module's terms. */
export function mapFsError(err: unknown, checked: CheckedPath, method: string): unknown {
  switch (sysCode(err)) {
    case 'ELOOP':
      return escapeError(method, checked.view, checked.grant.path, 'the final component is a symlink (swapped in after the check?)');
    case 'ENOENT':
      return new UpdatesError('E_NOT_FOUND', { method, path: checked.view, detail: 'no such file or directory' });
    case 'ENOTDIR':
      return new UpdatesError('E_IO', { method, detail: `${checked.view}: a component is not a directory` });
    case 'EISDIR':
      return new UpdatesError('E_IO', { method, detail: `${checked.view} is a directory` });
    default:
      return err;
  }
}

/**
 * Opens the checked path without following a final symlink, then verifies where the descriptor really is.
 * O_NONBLOCK keeps a FIFO from blocking the broker; the caller checks the file type with fstat.
 */
export async function openChecked(checked: CheckedPath, method: string, flags = O_RDONLY): Promise<FileHandle> {
  assertChecked(checked);
  let fh: FileHandle;
  try {
    fh = await fsp.open(checked.host, flags | O_NOFOLLOW | O_NONBLOCK);
  } catch (err) {
    // with O_DIRECTORY, a symlink in last place reports ENOTDIR rather than ELOOP
    const link = sysCode(err) === 'ENOTDIR' && (await fsp.lstat(checked.host).catch(() => undefined))?.isSymbolicLink() === true;
    throw mapFsError(link ? Object.assign(new Error('symlink'), { code: 'ELOOP' }) : err, checked, method);
  }
  try {
    await verifyFd(fh.fd, checked, method);
    return fh;
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** Opens a directory (O_DIRECTORY) the same way. */
export function openCheckedDir(checked: CheckedPath, method: string): Promise<FileHandle> {
  return openChecked(checked, method, O_RDONLY | O_DIRECTORY);
}

/** lstat of the checked path, or undefined when it does not exist. */
export async function lstatChecked(checked: CheckedPath): Promise<Stats | undefined> {
  assertChecked(checked);
  try {
    return await fsp.lstat(checked.host);
  } catch (err) {
    if (sysCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Reads a regular file of at most `maxBytes`. */
export async function readChecked(checked: CheckedPath, maxBytes: number, method: string): Promise<{ data: Buffer; stat: Stats }> {
  const fh = await openChecked(checked, method);
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) throw new UpdatesError('E_IO', { method, detail: `${checked.view} is not a regular file` });
    if (stat.size > maxBytes) {
      throw new UpdatesError('E_LIMIT', { method, detail: `${checked.view} is ${stat.size} bytes, more than the limit of ${maxBytes}` });
    }
    return { data: await fh.readFile(), stat };
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
 * Opens the folder that holds the checked path, verified: under the grant root, or, when the grant root is
 * itself the target (a grant on one file), exactly the folder holding it.
 */
export async function openParentDir(checked: CheckedPath, method: string): Promise<FileHandle> {
  assertChecked(checked);
  if (checked.host !== checked.realRoot) return openCheckedDir(parentOf(checked), method);
  const fh = await fsp.open(path.dirname(checked.host), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if ((await fsp.readlink(fdPath(fh))) !== path.dirname(checked.realRoot)) {
    await fh.close();
    throw escapeError(method, checked.view, checked.grant.path, 'its folder was swapped after the check');
  }
  return fh;
}

/** The kernel's name of an open descriptor: a path through it resolves inside that very folder (openat-like). */
export function fdPath(fh: FileHandle, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fh.fd}` : `/proc/self/fd/${fh.fd}/${name}`;
}

/**
 * Writes `data` atomically inside the verified parent folder: a temp file (O_EXCL|O_NOFOLLOW) created through
 * the folder's descriptor, owner and mode set on the file's descriptor, fsync, rename over the target in the
 * same folder, fsync of the folder. Going through the folder descriptor means a folder swapped after the check
 * cannot redirect the write; rename() replaces a swapped-in symlink rather than writing through it.
 */
export async function writeAtomicChecked(checked: CheckedPath, data: Uint8Array | string, attrs: WriteAttrs, method: string): Promise<void> {
  let dir: Awaited<ReturnType<typeof openParentDir>>;
  try {
    dir = await openParentDir(checked, method);
  } catch (err) {
    throw mapFsError(err, checked, method);
  }
  const name = path.basename(checked.host);
  const tmp = fdPath(dir, `.${name}.broker-${randomBytes(6).toString('hex')}`);
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
    await fsp.rename(tmp, fdPath(dir, name));
    await dir.sync();
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw mapFsError(err, checked, method);
  } finally {
    await dir.close();
  }
}

/** Owner and mode wanted on one entry; undefined fields stay as they are. */
export interface Ownership {
  uid?: number;
  gid?: number;
  mode?: number;
}

/**
 * Applies owner/group/mode through the entry's own descriptor (fchown/fchmod), only where different.
 * `expected` (from a walk's lstat) must still be the same inode, so a swap after the walk is refused.
 * Resolves to whether anything changed.
 */
export async function applyOwnership(checked: CheckedPath, want: Ownership, method: string, expected?: Stats): Promise<boolean> {
  const fh = await openChecked(checked, method);
  try {
    const st = await fh.stat();
    if (expected !== undefined && (st.ino !== expected.ino || st.dev !== expected.dev)) {
      throw escapeError(method, checked.view, checked.grant.path, 'the entry changed during the walk');
    }
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
  } finally {
    await fh.close();
  }
}
