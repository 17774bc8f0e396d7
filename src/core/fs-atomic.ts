/**
 * Durable file-system primitives: atomic file writes, symlink flips and fsync of files and folders.
 * A crash at any moment leaves either the old or the new content, never a mix.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, closeSync, constants, fstatSync, fsync, lstatSync, openSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { mapLimit } from './limit.js';

const fsyncFd = promisify(fsync);

/**
 * fsyncs a file or directory by path. The open and the close are made directly (each a cheap system call);
 * only the fsync, which waits for the disk, goes through the thread pool, so many run side by side.
 */
export async function fsyncPath(p: string): Promise<void> {
  const fd = openSync(p, constants.O_RDONLY);
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/** A temp name beside `target`, hidden, unique. */
export function tempSibling(target: string, tag = 'tmp'): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${tag}-${randomBytes(6).toString('hex')}`);
}

/** Options of an atomic write: `durable: false` skips both fsyncs (the caller makes a batch durable later). */
export interface AtomicWriteOptions { durable?: boolean }

/**
 * Writes `data` to `file` atomically: temp file, fsync, rename, fsync of the parent folder. The file gets
 * exactly `mode`, whatever the umask, before it appears under its name. Without `durable`, a reader (or a
 * process killed meanwhile) still sees the old content or the new, but a power loss may lose the write.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644, options: AtomicWriteOptions = {}): Promise<void> {
  const durable = options.durable ?? true;
  const tmp = tempSibling(file);
  const fh = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.chmod(mode);
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  await publish(tmp, file, durable);
}

/**
 * writeFileAtomic, unless `file` already holds exactly `data` with exactly `mode` (a regular file, not a link):
 * then it is only fsynced, with its folder, which costs next to nothing when nothing of it is waiting for the
 * disk. Either way, on return the content is durable. Returns whether the file was written.
 */
export async function writeFileAtomicIfChanged(file: string, data: string, mode = 0o644): Promise<boolean> {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    const same = st.isFile() && (st.mode & 0o7777) === mode && st.size === Buffer.byteLength(data) && readFileSync(fd, 'utf8') === data;
    if (same) {
      await fsyncFd(fd);
      await fsyncPath(path.dirname(file));
      return false;
    }
  } catch {
    // missing, a link, unreadable: written anew below
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  await writeFileAtomic(file, data, mode);
  return true;
}

/** Writes `value` as pretty JSON, atomically. */
export async function writeJsonAtomic(file: string, value: unknown, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, 0o644, options);
}

/**
 * Points the symlink `link` at `target` atomically: a new link under a temp name, renamed over the old one.
 * rename(2) replaces the link in one step, so a reader sees the old target or the new one, never none.
 */
export async function flipSymlink(link: string, target: string): Promise<void> {
  const tmp = tempSibling(link, 'link');
  await fsp.symlink(target, tmp);
  await publish(tmp, link);
}

/**
 * flipSymlink without the fsync, synchronously: the link changes by one rename all the same, but the caller
 * fsyncs the folder (once for several flips) before anything may depend on the flip surviving a power loss.
 */
export function flipSymlinkSync(link: string, target: string): void {
  const tmp = tempSibling(link, 'link');
  symlinkSync(target, tmp);
  try {
    renameSync(tmp, link);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Renames a finished temp entry over `target` (discarding it if that fails) and makes the rename durable. */
async function publish(tmp: string, target: string, durable = true): Promise<void> {
  try {
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  if (durable) await fsyncPath(path.dirname(target));
}

/** Reads a symlink, or undefined when `link` does not exist or is no symlink. */
export async function readLinkOrUndefined(link: string): Promise<string | undefined> {
  try {
    return await fsp.readlink(link);
  } catch {
    return undefined;
  }
}

/**
 * readLinkOrUndefined, synchronously: for loops over every module of a run, where a thread-pool round trip per link
 * costs more than the call. A missing link, the common case (no trial mark, no previous version), is told by an
 * lstat that does not throw: an error object per module costs several times the two system calls.
 */
export function readLinkOrUndefinedSync(link: string): string | undefined {
  try {
    if (lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() !== true) return undefined;
    return readlinkSync(link);
  } catch {
    return undefined;
  }
}

/**
 * fsyncs every file and folder under `dir` (then `dir` itself), so a later rename publishes durable content.
 * At most DEFAULTS.openFilesAtOnce are open at once, however many files the tree holds.
 */
export async function fsyncTree(dir: string): Promise<void> {
  const entries = await fsp.readdir(dir, { withFileTypes: true, recursive: true });
  const paths = entries.filter((e) => e.isFile() || e.isDirectory()).map((e) => path.join(e.parentPath, e.name));
  await mapLimit(paths, fsyncPath);
  await fsyncPath(dir);
}

/** Creates `dir` and its missing parents with mode 0755 whatever the umask (folders others must traverse). */
export async function mkdirTraversable(dir: string): Promise<void> {
  const made = await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
  if (made === undefined) return;
  for (let d = path.resolve(dir); d.startsWith(made); d = path.dirname(d)) await fsp.chmod(d, 0o755);
}
