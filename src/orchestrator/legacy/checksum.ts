/**
 * The checksum of a legacy module's installed folder: the sha256 (hex) of its listing, one line per regular file,
 * `<relative path>\t<sha256 hex of the content>\n`, sorted by relative path in byte order.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

/** The sha256 (hex) of one file's content, streamed so a large file is never held in memory. */
async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

/**
 * Every regular file under `dir`, hidden ones included, as `/`-separated paths relative to `dir`.
 * Symlinks inside are not regular files: they are neither followed nor hashed (a link could point anywhere, and
 * following one would make the checksum depend on files outside the module). Sockets, FIFOs and devices are
 * skipped likewise.
 */
async function regularFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...(await regularFiles(path.join(dir, e.name), rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

/** Sorts paths by the bytes of their UTF-8 form (as `LC_ALL=C sort` does), not by UTF-16 code units. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The listing whose sha256 is the folder's checksum (exported so a mismatch can be explained). */
export async function folderListing(dir: string): Promise<string> {
  const files = (await regularFiles(dir)).sort(byteOrder);
  const lines: string[] = [];
  for (const rel of files) lines.push(`${rel}\t${await hashFile(path.join(dir, ...rel.split('/')))}\n`);
  return lines.join('');
}

/** The checksum of a folder, as manifest.json writes it: "sha256:<hex>". */
export async function folderChecksum(dir: string): Promise<string> {
  return `sha256:${createHash('sha256').update(await folderListing(dir), 'utf8').digest('hex')}`;
}

/**
 * The real folder of an installed legacy module, `<modules dir>/<name>`: when that is a symlink (to a version
 * folder) it follows that one link, and the target must itself be a real folder; undefined when nothing is there.
 */
export async function moduleFolder(modulesDir: string, name: string): Promise<{ dir: string } | { problem: string } | undefined> {
  const link = path.join(modulesDir, name);
  const st = await fsp.lstat(link).catch(() => undefined);
  if (st === undefined) return undefined;
  const dir = st.isSymbolicLink() ? path.resolve(modulesDir, await fsp.readlink(link)) : link;
  const target = st.isSymbolicLink() ? await fsp.lstat(dir).catch(() => undefined) : st;
  if (target === undefined) return { problem: `modules/${name} is a dangling link` };
  if (!target.isDirectory()) return { problem: `modules/${name} is not a folder (nor a link to one)` };
  return { dir };
}
