// A release's own code (its sandbox build step and its self-test) runs as the sandbox user with an empty
// environment: it cannot write the release it belongs to, nor read the orchestrator's secrets from its
// environment; what its build step leaves is taken back by root and checked.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { stageRelease } from '../../src/orchestrator/self-update.js';
import { resolveSandboxUser } from '../../src/sandbox/supervisor/sandbox-user.js';
import { seedClone } from '../helpers/raw-tree.js';
import { makeRepo, rootIndex, tempDir, traversableDir } from '../helpers/repo.js';
import { PROJECT } from '../helpers/run.js';

const VERSION = '0.2.0';

/**
 * The self-test of the fixture release: it reports who it runs as and what it sees, tries to write into its own
 * release folder, and says "self-test ok" only when it runs without root, without any environment and could
 * not write there. Its report goes to stdout, which the refusal message quotes.
 */
const LAUNCHER = `import { writeFileSync } from 'node:fs';
const uid = process.getuid();
const env = Object.keys(process.env);
let wrote = false;
try { writeFileSync(new URL('../pwned-by-self-test', import.meta.url), 'x'); wrote = true; } catch {}
process.stdout.write(JSON.stringify({ uid, env, wrote }) + '\\n');
if (uid !== 0 && env.length === 0 && !wrote) process.stdout.write('self-test ok ${VERSION}\\n');
else process.exitCode = 1;
`;

/** A release tree at VERSION with this project's lockfile (so no npm ci), one source file and `extra` files. */
function release(extra: Record<string, string> = {}, closed = false): { installRoot: string; repoDir: string; commit: string } {
  const repo = makeRepo({
    ...rootIndex(VERSION),
    'package.json': `{"name":"updates-orchestrator","version":"${VERSION}","type":"module"}\n`,
    'package-lock.json': readFileSync(path.join(PROJECT, 'package-lock.json'), 'utf8'),
    'bin/updates.js': LAUNCHER,
    'src/version.ts': `export const VERSION = '${VERSION}';\n`,
    ...extra,
  });
  const installRoot = closed ? tempDir('uo-release-build') : traversableDir('uo-release-build');
  const repoDir = path.join(installRoot, 'state', 'repo.git');
  seedClone(repo, repoDir);
  return { installRoot, repoDir, commit: repo.git('rev-parse', 'HEAD') };
}

/** Every entry under `dir` with its owner, for assertions on what root took back. */
function owners(dir: string): Array<[string, number]> {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((rel) => [rel, lstatSync(path.join(dir, rel)).uid]);
}

test('the self-test runs as the sandbox user, with an empty environment, and cannot write its release', { timeout: 120_000 }, async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root: the step switches to the sandbox user');
  const sandbox = await resolveSandboxUser();
  const r = release();
  const dir = await stageRelease({ installRoot: r.installRoot, repoDir: r.repoDir, commit: r.commit, version: VERSION, logger: silentLogger() });
  const final = path.join(r.installRoot, 'releases', dir);
  assert.equal(existsSync(path.join(final, 'pwned-by-self-test')), false);
  assert.ok(existsSync(path.join(final, '.release-ok')));
  assert.notEqual(sandbox.uid, 0);
});

test('a self-test that needs root or the environment fails, and the release is not published', { timeout: 120_000 }, async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root: the step switches to the sandbox user');
  const r = release({ 'bin/updates.js': `process.stdout.write(process.getuid() === 0 && process.env.PATH ? 'self-test ok ${VERSION}\\n' : 'not root, no PATH\\n');\n` });
  await assert.rejects(
    stageRelease({ installRoot: r.installRoot, repoDir: r.repoDir, commit: r.commit, version: VERSION, logger: silentLogger() }),
    /its self-test failed .*not root, no PATH/,
  );
  assert.deepEqual(readdirSync(path.join(r.installRoot, 'releases')), []);
});

test("the sandbox build step writes only the folder lent to it (its bundles), and root takes that folder back", { timeout: 120_000 }, async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root: the step switches to the sandbox user');
  const prebuild = `import { mkdirSync, writeFileSync } from 'node:fs';
const out = new URL('../dist/sandbox/supervisor/prebuilt/', import.meta.url);
mkdirSync(new URL('nested/', out), { recursive: true });
writeFileSync(new URL('nested/bundle.js', out), '// bundle');
let escaped = false;
try { writeFileSync(new URL('../bin/updates.js', import.meta.url), '// replaced'); escaped = true; } catch {}
if (escaped) process.exit(3);
`;
  const r = release({ 'scripts/prebuild-sandbox.mjs': prebuild });
  const dir = await stageRelease({ installRoot: r.installRoot, repoDir: r.repoDir, commit: r.commit, version: VERSION, logger: silentLogger() });
  const prebuilt = path.join(r.installRoot, 'releases', dir, 'dist', 'sandbox', 'supervisor', 'prebuilt');
  assert.deepEqual(owners(prebuilt).sort(), [['nested', 0], [path.join('nested', 'bundle.js'), 0]]);
  assert.equal(lstatSync(prebuilt).uid, 0);
});

test('a sandbox build step that leaves a symlink in its bundle folder is refused', { timeout: 120_000 }, async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root: the step switches to the sandbox user');
  const prebuild = `import { mkdirSync, symlinkSync } from 'node:fs';
mkdirSync(new URL('../dist/sandbox/supervisor/prebuilt/', import.meta.url), { recursive: true });
symlinkSync('/etc/shadow', new URL('../dist/sandbox/supervisor/prebuilt/worker.js', import.meta.url));
`;
  const r = release({ 'scripts/prebuild-sandbox.mjs': prebuild });
  await assert.rejects(
    stageRelease({ installRoot: r.installRoot, repoDir: r.repoDir, commit: r.commit, version: VERSION, logger: silentLogger() }),
    /the build left prebuilt\/worker\.js, which is not a plain file/,
  );
  assert.deepEqual(readdirSync(path.join(r.installRoot, 'releases')), []);
});

test('when the sandbox user cannot reach the release folder, the self-update is refused, not run as root', { timeout: 120_000 }, async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root: the step switches to the sandbox user');
  // A 0700 install root: the launcher above would say "self-test ok" as root; it must not get to run at all.
  const r = release({ 'bin/updates.js': `process.stdout.write('self-test ok ${VERSION}\\n');\n` }, true);
  await assert.rejects(
    stageRelease({ installRoot: r.installRoot, repoDir: r.repoDir, commit: r.commit, version: VERSION, logger: silentLogger() }),
    /who cannot read .*chmod o\+x/,
  );
  assert.deepEqual(readdirSync(path.join(r.installRoot, 'releases')), []);
});
