/**
 * Writes the files of a git tree into a new folder, as root, safely by construction. Used for module versions
 * and for orchestrator releases alike.
 *
 * - The folder must not exist yet; every folder below it is made here by mkdir, which fails on anything
 *   already there, so no path this writer uses can pass through a symlink or an entry it did not make.
 * - Files are created exclusively (O_CREAT | O_EXCL | O_NOFOLLOW): nothing is ever written through an
 *   existing entry, a symlink of the tree included.
 * - Symlinks are allowed only when they resolve, physically (realpath of the written copy), inside the folder:
 *   a chain such as `a -> .` and `x -> a/a/a/../../../elsewhere` reads as inside but is not, and is refused.
 */
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../core/errno.js';
import { entryNameProblem } from './git-tree.js';

/** A file to write: its "/"-separated path in the tree, git mode and content. */
export interface TreeFileContent { rel: string; mode: string; content: Buffer }

/** Raised for a tree that cannot be written safely; the message names the entry. */
export class UnsafeTreeError extends Error {
  override name = 'UnsafeTreeError';
}

const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Writes `files` into `dir` (which must not exist) and checks every symlink on the written copy. */
export async function writeTree(dir: string, files: readonly TreeFileContent[]): Promise<void> {
  await fsp.mkdir(dir);
  const made = new Set<string>(['']);
  for (const f of files) {
    const parts = f.rel.split('/');
    const bad = parts.map(entryNameProblem).find((p) => p !== undefined);
    if (bad !== undefined) throw new UnsafeTreeError(`"${f.rel}" has ${bad}`);
    for (let i = 1; i < parts.length; i += 1) {
      const sub = parts.slice(0, i).join('/');
      if (made.has(sub)) continue;
      await fsp.mkdir(path.join(dir, ...parts.slice(0, i))).catch((err: unknown) => {
        throw collision(err, sub);
      });
      made.add(sub);
    }
    const dest = path.join(dir, ...parts);
    if (f.mode === '120000') {
      await fsp.symlink(f.content.toString('utf8'), dest).catch((err: unknown) => {
        throw collision(err, f.rel);
      });
      continue;
    }
    const mode = f.mode === '100755' ? 0o755 : 0o644;
    const fh = await fsp.open(dest, EXCLUSIVE, mode).catch((err: unknown) => {
      throw collision(err, f.rel);
    });
    try {
      await fh.writeFile(f.content);
      await fh.chmod(mode);
    } finally {
      await fh.close();
    }
  }
  await checkSymlinks(dir, files.filter((f) => f.mode === '120000').map((f) => f.rel));
}

function collision(err: unknown, rel: string): Error {
  const code = errnoCode(err);
  if (code === 'EEXIST' || code === 'ELOOP' || code === 'ENOTDIR') return new UnsafeTreeError(`"${rel}" collides with another entry of the tree`);
  return err instanceof Error ? err : new Error(String(err));
}

/** Every symlink must resolve, on disk, to an entry inside `dir`. */
async function checkSymlinks(dir: string, links: readonly string[]): Promise<void> {
  const root = await fsp.realpath(dir);
  for (const rel of links) {
    const link = path.join(dir, ...rel.split('/'));
    const target = await fsp.readlink(link);
    const real = await fsp.realpath(link).catch(() => undefined);
    if (real === undefined) throw new UnsafeTreeError(`"${rel}" is a symlink to "${target}", which does not resolve to a file of the folder`);
    const inside = path.relative(root, real);
    if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
      throw new UnsafeTreeError(`"${rel}" is a symlink to "${target}", which resolves outside the folder`);
    }
  }
}
