// The launcher compiles the CLI bundle with a V8 code cache kept beside it (bin/code-cache.js). A code cache is
// code: V8 checks only the source's length against it, so a cache planted for a bundle runs instead of the
// bundle. These tests plant one (made from other code of the same length) and show that it runs when it sits where
// only the process's own user can write, and is ignored wherever anyone else could have put it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { tempDir } from '../helpers/repo.js';
import { BIN, PROJECT } from '../helpers/run.js';

const LOADER = pathToFileURL(path.join(PROJECT, 'bin', 'code-cache.js')).href;
/** A user other than root and the process's own (tests run as root). */
const OTHER_UID = 4242;

/**
 * Runs node without tsx: tsx turns source maps on, and with them on the bundle is simply required (see the
 * source-map test below).
 */
function plainNode(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: PROJECT, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

/** A folder with two CommonJS files of the same length, a.cjs and b.cjs, and a script that requires one through requireCached and prints its export. */
function fixture(): { dir: string; load: (name: string) => Promise<string> } {
  const dir = tempDir('uo-code-cache');
  chmodSync(dir, 0o755);
  writeFileSync(path.join(dir, 'a.cjs'), "module.exports = 'from a.cjs';\n");
  writeFileSync(path.join(dir, 'b.cjs'), "module.exports = 'from b.cjs';\n");
  const script = path.join(tempDir('uo-code-cache-loader'), 'load.mjs');
  writeFileSync(script, `import { requireCached } from ${JSON.stringify(LOADER)};\nprocess.stdout.write(requireCached(process.argv[2]));\n`);
  const load = async (name: string): Promise<string> => {
    const r = await plainNode([script, path.join(dir, name)]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  return { dir, load };
}

/** The one cache file in `dir`'s cache folder (each start leaves only the cache of what it loaded). */
function cacheFile(dir: string): string {
  const names = readdirSync(path.join(dir, '.v8-cache'));
  assert.equal(names.length, 1, names.join(' '));
  return path.join(dir, '.v8-cache', names[0] as string);
}

/** Plants b.cjs's code cache under the name of a.cjs's, as someone who could write there might. */
async function plant(f: ReturnType<typeof fixture>): Promise<string> {
  assert.equal(await f.load('b.cjs'), 'from b.cjs');
  const foreign = readFileSync(cacheFile(f.dir));
  assert.equal(await f.load('a.cjs'), 'from a.cjs');
  const target = cacheFile(f.dir);
  writeFileSync(target, foreign);
  return target;
}

test('a cache is made at the first start and used by the next, and V8 runs a same-length foreign one where it is trusted', async () => {
  const f = fixture();
  assert.equal(await f.load('a.cjs'), 'from a.cjs');
  const made = cacheFile(f.dir);
  assert.match(path.basename(made), /^a\.cjs\.[0-9a-f]{32}$/);
  const before = statSync(made);
  assert.equal(await f.load('a.cjs'), 'from a.cjs');
  // Used, not refused and written again.
  assert.equal(statSync(made).ino, before.ino);
  // The danger the checks below guard against is real: in a folder only this user can write, a planted cache runs.
  await plant(f);
  assert.equal(await f.load('a.cjs'), 'from b.cjs');
});

test('a planted cache is ignored in a cache folder others can write, or that is a link', async () => {
  const writable = fixture();
  await plant(writable);
  chmodSync(path.join(writable.dir, '.v8-cache'), 0o775);
  assert.equal(await writable.load('a.cjs'), 'from a.cjs');

  const linked = fixture();
  await plant(linked);
  const elsewhere = path.join(tempDir('uo-code-cache-elsewhere'), 'cache');
  renameSync(path.join(linked.dir, '.v8-cache'), elsewhere);
  symlinkSync(elsewhere, path.join(linked.dir, '.v8-cache'));
  assert.equal(await linked.load('a.cjs'), 'from a.cjs');
  // Nothing is written through the link either.
  assert.deepEqual(readdirSync(elsewhere).filter((n) => n.startsWith('.tmp-')), []);
});

test("a planted cache is ignored when the file is another user's, writable by others, or a link", async () => {
  const foreign = fixture();
  const owned = await plant(foreign);
  chownSync(owned, OTHER_UID, OTHER_UID);
  assert.equal(await foreign.load('a.cjs'), 'from a.cjs');
  // Refused, so made anew: the next start uses this process's own cache.
  assert.equal(statSync(cacheFile(foreign.dir)).uid, process.getuid?.());
  assert.equal(await foreign.load('a.cjs'), 'from a.cjs');

  const open = fixture();
  chmodSync(await plant(open), 0o666);
  assert.equal(await open.load('a.cjs'), 'from a.cjs');

  const link = fixture();
  const target = await plant(link);
  const aside = path.join(tempDir('uo-code-cache-aside'), 'planted');
  copyFileSync(target, aside);
  rmSync(target);
  symlinkSync(aside, target);
  assert.equal(await link.load('a.cjs'), 'from a.cjs');
});

test('a planted cache is ignored when the folder of the bundle itself is writable by others', async () => {
  const f = fixture();
  await plant(f);
  chmodSync(f.dir, 0o777);
  assert.equal(await f.load('a.cjs'), 'from a.cjs');
  chmodSync(f.dir, 0o755);
  chownSync(f.dir, OTHER_UID, OTHER_UID);
  assert.equal(await f.load('a.cjs'), 'from a.cjs');
});

test('a changed bundle of the same length is not run from the cache of the one before', async () => {
  const f = fixture();
  assert.equal(await f.load('a.cjs'), 'from a.cjs');
  const old = cacheFile(f.dir);
  writeFileSync(path.join(f.dir, 'a.cjs'), "module.exports = 'from A.cjs';\n");
  assert.equal(await f.load('a.cjs'), 'from A.cjs');
  // The old bundle's cache is gone, replaced by the new one's.
  assert.equal(existsSync(old), false);
  assert.notEqual(cacheFile(f.dir), old);
});

test('a damaged cache is refused by V8: the bundle still runs, and the cache is made anew', async () => {
  const f = fixture();
  assert.equal(await f.load('a.cjs'), 'from a.cjs');
  const file = cacheFile(f.dir);
  const size = statSync(file).size;
  writeFileSync(file, Buffer.alloc(size, 0x5a));
  assert.equal(await f.load('a.cjs'), 'from a.cjs');
  assert.notDeepEqual(readFileSync(file), Buffer.alloc(size, 0x5a));
});

test('with source maps on, the file is required as usual, so stack traces name its sources', async () => {
  const dir = tempDir('uo-code-cache-maps');
  writeFileSync(path.join(dir, 'src.ts'), 'function boom(): never {\n  throw new Error("boom");\n}\nexport function main(): void {\n  boom();\n}\n');
  await build({ entryPoints: [path.join(dir, 'src.ts')], bundle: true, platform: 'node', format: 'cjs', sourcemap: true, outfile: path.join(dir, 'main.cjs'), logLevel: 'silent' });
  const script = path.join(dir, 'load.mjs');
  writeFileSync(script, `import { requireCached } from ${JSON.stringify(LOADER)};\ntry { requireCached(process.argv[2]).main(); } catch (err) { process.stdout.write(err.stack); }\n`);
  const mapped = await plainNode(['--enable-source-maps', script, path.join(dir, 'main.cjs')]);
  assert.match(mapped.stdout, /at boom \(.*src\.ts:2:9\)/);
  const plain = await plainNode([script, path.join(dir, 'main.cjs')]);
  assert.match(plain.stdout, /at boom \(.*main\.cjs:\d+:\d+\)/);
});

test('the launcher starts the CLI bundle with its cache, named after the bundle it was made from', async () => {
  const bundle = path.join(PROJECT, 'dist', 'bundle', 'main.cjs');
  assert.ok(existsSync(bundle), 'npm run build made the CLI bundle');
  const cache = path.join(PROJECT, 'dist', 'bundle', '.v8-cache');
  rmSync(cache, { recursive: true, force: true });
  const r = await plainNode([BIN, '--version']);
  assert.equal(r.code, 0, r.stderr);
  const key = createHash('sha256').update(`${process.version}\0${process.arch}\0`).update(readFileSync(bundle, 'utf8')).digest('hex').slice(0, 32);
  assert.ok(existsSync(path.join(cache, `main.cjs.${key}`)));
  // And started from it.
  const again = await plainNode([BIN, '--version']);
  assert.equal(again.stdout, r.stdout);
});
