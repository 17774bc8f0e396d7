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
import { closeSync, constants, fchmodSync, mkdirSync, openSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../core/errno.js';
import { entryNameProblem } from './git-tree.js';

/** A file to write: its "/"-separated path in the tree, git mode and content. */
export interface TreeFileContent { rel: string; mode: string; content: Buffer }

/** Raised for a tree that cannot be written safely; the message names the entry. */
export class UnsafeTreeError extends Error {
  override name = 'UnsafeTreeError';
}

/** What writeTreeSync made: the folders (`dir` first) and the regular files, for the caller to fsync. */
export interface WrittenTree { dirs: string[]; files: string[] }

const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Writes `files` into `dir` (which must not exist) and checks every symlink on the written copy. */
export async function writeTree(dir: string, files: readonly TreeFileContent[]): Promise<void> {
  writeTreeSync(dir, files);
}

/**
 * writeTree, synchronously: a tree is many small system calls, each cheaper made directly than through the
 * thread pool. Nothing is made durable here; the caller fsyncs what this returns.
 */
export function writeTreeSync(dir: string, files: readonly TreeFileContent[]): WrittenTree {
  mkdirSync(dir);
  const written: WrittenTree = { dirs: [dir], files: [] };
  const made = new Set<string>(['']);
  for (const f of files) {
    const parts = f.rel.split('/');
    const bad = parts.map(entryNameProblem).find((p) => p !== undefined);
    if (bad !== undefined) throw new UnsafeTreeError(`"${f.rel}" has ${bad}`);
    for (let i = 1; i < parts.length; i += 1) {
      const sub = parts.slice(0, i).join('/');
      if (made.has(sub)) continue;
      const subDir = path.join(dir, ...parts.slice(0, i));
      attempt(() => mkdirSync(subDir), sub);
      made.add(sub);
      written.dirs.push(subDir);
    }
    const dest = path.join(dir, ...parts);
    if (f.mode === '120000') {
      attempt(() => symlinkSync(f.content.toString('utf8'), dest), f.rel);
      continue;
    }
    const mode = f.mode === '100755' ? 0o755 : 0o644;
    const fd = attempt(() => openSync(dest, EXCLUSIVE, mode), f.rel);
    try {
      writeFileSync(fd, f.content);
      fchmodSync(fd, mode);
    } finally {
      closeSync(fd);
    }
    written.files.push(dest);
  }
  checkSymlinks(dir, files.filter((f) => f.mode === '120000').map((f) => f.rel));
  return written;
}

/** Runs `make` (a create of the tree entry `rel`), turning a collision with another entry into UnsafeTreeError. */
function attempt<T>(make: () => T, rel: string): T {
  try {
    return make();
  } catch (err) {
    throw collision(err, rel);
  }
}

function collision(err: unknown, rel: string): Error {
  const code = errnoCode(err);
  if (code === 'EEXIST' || code === 'ELOOP' || code === 'ENOTDIR') return new UnsafeTreeError(`"${rel}" collides with another entry of the tree`);
  return err instanceof Error ? err : new Error(String(err));
}

/** Every symlink must resolve, on disk, to an entry inside `dir`. */
function checkSymlinks(dir: string, links: readonly string[]): void {
  if (links.length === 0) return;
  const root = realpathSync.native(dir);
  for (const rel of links) {
    const link = path.join(dir, ...rel.split('/'));
    const target = readlinkSync(link);
    let real: string;
    try {
      real = realpathSync.native(link);
    } catch {
      throw new UnsafeTreeError(`"${rel}" is a symlink to "${target}", which does not resolve to a file of the folder`);
    }
    const inside = path.relative(root, real);
    if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
      throw new UnsafeTreeError(`"${rel}" is a symlink to "${target}", which resolves outside the folder`);
    }
  }
}
