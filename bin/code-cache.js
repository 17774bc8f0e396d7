// Loads the CLI bundle (one CommonJS file) with a V8 code cache kept beside it, so that a start skips most of
// compiling it. The launcher's helper: plain JavaScript, Node built-ins only.
//
// A code cache is code: V8 runs what it holds. So it is read only from a folder (and as a file) that no one but
// this process's user or root can change: whoever could plant one could as well replace the bundle beside it. It
// is named after the bundle's SHA-256 and the Node version and architecture (V8 itself checks only the source's
// length, its own version and its flags, and refuses a cache that differs in those). When there is none, or V8
// refused it, it is made anew at exit, after the command ran: by then V8 has compiled the functions the command
// called, and the cache holds them too.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { Script } from 'node:vm';

/** The cache's folder, beside the bundle. */
const CACHE_DIR = '.v8-cache';

/** Whether `st` is not a symbolic link and can be changed only by this process's user or root. */
function ownedSafely(st) {
  const euid = process.geteuid?.() ?? -1;
  return !st.isSymbolicLink() && (st.uid === euid || st.uid === 0) && (st.mode & 0o022) === 0;
}

/** The cache's bytes when it is there and safe to use, else undefined. */
function readCache(dir, file) {
  try {
    if (!ownedSafely(lstatSync(path.dirname(dir))) || !ownedSafely(lstatSync(dir))) return undefined;
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      return st.isFile() && ownedSafely(st) ? readFileSync(fd) : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** Writes the cache (a temp file, then a rename) and removes the caches of other bundles. A failure costs only the next start its compile. */
function writeCache(dir, file, data) {
  const tmp = path.join(dir, `.tmp-${process.pid}`);
  try {
    if (!ownedSafely(lstatSync(path.dirname(dir)))) return;
    try {
      mkdirSync(dir, { mode: 0o755 });
    } catch (err) {
      if (err?.code !== 'EEXIST') return;
    }
    if (!ownedSafely(lstatSync(dir))) return;
    for (const name of readdirSync(dir)) if (name !== path.basename(file)) rmSync(path.join(dir, name), { force: true });
    writeFileSync(tmp, data, { mode: 0o644, flag: 'wx' });
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
}

/**
 * Requires the CommonJS file `file` and returns its exports, compiled with its code cache when there is a usable
 * one; when there is not, one is written at exit. The file runs as required: the same wrapper, `require`,
 * `module`, `__filename` and `__dirname`. With source maps on (`--enable-source-maps`), which Node applies only to
 * what its loaders compile, the file is simply required.
 */
export function requireCached(file) {
  if (process.sourceMapsEnabled === true) return createRequire(import.meta.url)(file);
  const source = readFileSync(file, 'utf8');
  const dir = path.join(path.dirname(file), CACHE_DIR);
  const key = createHash('sha256').update(`${process.version}\0${process.arch}\0`).update(source).digest('hex').slice(0, 32);
  const cacheFile = path.join(dir, `${path.basename(file)}.${key}`);
  const cachedData = readCache(dir, cacheFile);
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, { filename: file, ...(cachedData !== undefined ? { cachedData } : {}) });
  const module = new Module(file);
  module.filename = file;
  module.paths = Module._nodeModulePaths(path.dirname(file));
  script.runInThisContext().call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  module.loaded = true;
  if (cachedData === undefined || script.cachedDataRejected === true) process.once('exit', () => writeCache(dir, cacheFile, script.createCachedData()));
  return module.exports;
}
