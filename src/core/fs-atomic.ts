/**
 * Durable file-system primitives: atomic file writes, symlink flips and fsync of files and folders.
 * A crash at any moment leaves either the old or the new content, never a mix.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, constants } from 'node:fs';
import path from 'node:path';

/** fsyncs a file or directory by path. */
export async function fsyncPath(p: string): Promise<void> {
  const fh = await fsp.open(p, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A temp name beside `target`, hidden, unique. */
export function tempSibling(target: string, tag = 'tmp'): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${tag}-${randomBytes(6).toString('hex')}`);
}

/**
 * Writes `data` to `file` atomically: temp file, fsync, rename, fsync of the parent folder. The file gets
 * exactly `mode`, whatever the umask, before it appears under its name.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = tempSibling(file);
  const fh = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.chmod(mode);
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await publish(tmp, file);
}

/** Writes `value` as pretty JSON, atomically. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
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

/** Renames a finished temp entry over `target` (discarding it if that fails) and makes the rename durable. */
async function publish(tmp: string, target: string): Promise<void> {
  try {
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncPath(path.dirname(target));
}

/** Reads a symlink, or undefined when `link` does not exist or is no symlink. */
export async function readLinkOrUndefined(link: string): Promise<string | undefined> {
  try {
    return await fsp.readlink(link);
  } catch {
    return undefined;
  }
}

/** fsyncs every file and folder under `dir` (then `dir` itself), so a later rename publishes durable content. */
export async function fsyncTree(dir: string): Promise<void> {
  const entries = await fsp.readdir(dir, { withFileTypes: true });
  await Promise.all(
    entries.map(async (e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await fsyncTree(p);
      else if (e.isFile()) await fsyncPath(p);
    }),
  );
  await fsyncPath(dir);
}

/** Creates `dir` and its missing parents with mode 0755 whatever the umask (folders others must traverse). */
export async function mkdirTraversable(dir: string): Promise<void> {
  const made = await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
  if (made === undefined) return;
  for (let d = path.resolve(dir); d.startsWith(made); d = path.dirname(d)) await fsp.chmod(d, 0o755);
}
