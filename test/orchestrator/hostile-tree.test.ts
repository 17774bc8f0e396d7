// Hostile git trees at install (Phase 1 writes them as root): entries named "." or "..", a "/" in a name, a name
// twice, symlink chains that read as inside but resolve outside. Each is refused, naming the module and the
// entry; the module is not installed, the others are, and nothing is written outside the install root.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { liveVersions } from '../helpers/install-root.js';
import { blob, commitEdited, nest, rawTree, seedClone } from '../helpers/raw-tree.js';
import type { RawEntry } from '../helpers/raw-tree.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import type { TestRepo } from '../helpers/repo.js';
import { runPhase1Only } from '../helpers/run.js';
import type { RunReport } from '../../src/orchestrator/report.js';

interface Scene { repo: TestRepo; root: string; outside: string; victim: string }

/** Modules good and evil, an install root, and a folder outside it holding a victim file. */
function scene(): Scene {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('good', { version: '1.0.0' }), ...moduleFiles('evil', { version: '1.0.0' }) });
  const root = tempDir('uo-hostile-root');
  const outside = tempDir('uo-hostile-outside');
  const victim = path.join(outside, 'victim');
  writeFileSync(victim, 'original\n');
  return { repo, root, outside, victim };
}

/** The staging folder of a module is <root>/.versions/<m>/.staging-x: four ".." lead to the root's parent. */
const UP = ['..', '..', '..', '..'];

/** Puts the hostile commit's objects into the orchestrator's clone before the run, as an unchecked fetch would. */
function seed(s: Scene): void {
  mkdirSync(path.join(s.root, 'state'), { recursive: true, mode: 0o700 });
  seedClone(s.repo, path.join(s.root, 'state', 'repo.git'));
}

function evilRefused(s: Scene, report: RunReport, detail: RegExp): void {
  const evil = report.updates.find((u) => u.module === 'evil');
  assert.ok(evil?.status === 'invalid' || evil?.status === 'failed', JSON.stringify(report.updates));
  const error = report.errors.find((e) => e.message.includes('"evil"'));
  assert.ok(error !== undefined, JSON.stringify(report.errors));
  assert.equal(error.code, 'E_MODULE_CONTENT');
  assert.match(error.message, detail);
  assert.deepEqual(liveVersions(s.root), { good: '1.0.0' }, 'the other module is installed');
  assert.equal(readFileSync(s.victim, 'utf8'), 'original\n');
  assert.deepEqual(readdirSync(s.outside), ['victim'], 'nothing was written outside the install root');
}

/** A hostile module folder: the real one's entries plus `extra`. */
const adding = (extra: (repo: TestRepo) => RawEntry[]) => (s: Scene) => commitEdited(s.repo, ['modules', 'evil'], (entries) => [...entries, ...extra(s.repo)]);

/** A folder of `..` entries whose innermost folder holds <outside>/pwned. */
const escapeTree = (s: Scene, names: string[] = UP): RawEntry => {
  const pwned = rawTree(s.repo, [{ mode: '100644', name: 'pwned', oid: blob(s.repo, 'PWNED\n') }]);
  const [first = '..', ...rest] = names;
  return { mode: '40000', name: first, oid: nest(s.repo, [...rest, path.basename(s.outside)], pwned) };
};

test('an entry ".." under modules/<m>/ is refused by git\'s object check at fetch: nothing is fetched or installed', async () => {
  const s = scene();
  adding(() => [escapeTree(s)])(s);
  const report = await runPhase1Only(s.root, s.repo.url);
  assert.equal(report.errors[0]?.code, 'E_SYNC_BAD_OBJECTS', JSON.stringify(report.errors));
  assert.match(report.errors[0]?.message ?? '', /hasDotdot/);
  assert.deepEqual(liveVersions(s.root), {});
  assert.deepEqual(readdirSync(s.outside), ['victim']);
});

for (const [label, names, detail] of [
  ['".." nested', UP, /the name "\.\."/],
  ['"."', ['.', ...UP], /the name "\."/],
  ['a "/" in a name', ['../../../..'], /a "\/" in its name/],
  ['an empty name', ['', ...UP], /an empty name/],
] as const) {
  test(`objects already in the clone: an entry with ${label} under modules/evil is refused; good is installed`, async () => {
    const s = scene();
    adding(() => [escapeTree(s, [...names])])(s);
    seed(s);
    const report = await runPhase1Only(s.root, s.repo.url);
    evilRefused(s, report, detail);
  });
}

test('two index.json in one module folder: refused, whichever the planner would read', async () => {
  const s = scene();
  const loud = blob(s.repo, JSON.stringify({ metadata: { schema_version: '1.0.0' }, capabilities: { paths: [{ path: '/etc', access: ['write'] }] } }));
  adding(() => [{ mode: '100644', name: 'index.json', oid: loud }])(s);
  seed(s);
  evilRefused(s, await runPhase1Only(s.root, s.repo.url), /"index\.json" appears twice/);
});

test('a symlink then a file of the same name: refused, nothing is written through the link', async () => {
  const s = scene();
  const target = `a/a/a/a/${UP.join('/')}/${path.basename(s.outside)}/victim`;
  adding((r) => [
    { mode: '120000', name: 'a', oid: blob(r, '.') },
    { mode: '120000', name: 'x', oid: blob(r, target) },
    { mode: '100644', name: 'x', oid: blob(r, 'PWNED\n') },
  ])(s);
  seed(s);
  evilRefused(s, await runPhase1Only(s.root, s.repo.url), /"x" appears twice/);
});

test('chained symlinks (a -> . and x -> a/a/a/a/../../../../elsewhere) read as inside but resolve outside: refused', async () => {
  const s = scene();
  const target = `a/a/a/a/${UP.join('/')}/${path.basename(s.outside)}/victim`;
  s.repo.commit({}, 'base');
  const files = { a: '.', x: target };
  for (const [name, to] of Object.entries(files)) execLink(s.repo, `modules/evil/${name}`, to);
  seed(s);
  evilRefused(s, await runPhase1Only(s.root, s.repo.url), /"x" is a symlink to .*resolves outside the folder/);
});

test('an index.ts that is a symlink to a file outside the commit is refused, not built', async () => {
  const s = scene();
  writeFileSync(path.join(s.outside, 'evil.ts'), `export async function main() { return { success: true, message: 'REACHED' }; }\n`);
  execLink(s.repo, 'modules/evil/a', '.');
  execLink(s.repo, 'modules/evil/index.ts', `a/a/a/a/${UP.join('/')}/${path.basename(s.outside)}/evil.ts`, true);
  const report = await runPhase1Only(s.root, s.repo.url);
  const error = report.errors.find((e) => e.message.includes('"evil"'));
  assert.match(error?.message ?? '', /"index\.ts" is a symlink to .*resolves outside the folder/);
  assert.deepEqual(liveVersions(s.root), { good: '1.0.0' });
  assert.equal(existsSync(path.join(s.root, 'modules', 'evil')), false);
});

/** Replaces a file of the working tree by a symlink and commits it. */
function execLink(repo: TestRepo, rel: string, target: string, replace = false): void {
  const p = path.join(repo.dir, rel);
  if (replace) repo.git('rm', '-q', rel);
  mkdirSync(path.dirname(p), { recursive: true });
  repo.git('update-index', '--add', '--cacheinfo', `120000,${blob(repo, target)},${rel}`);
  repo.git('commit', '-q', '-m', `link ${rel}`);
  repo.git('checkout', '-q', '--', '.');
}

test('a submodule entry named ".." is refused by its name, before any submodule rule', async () => {
  const s = scene();
  adding((r) => [{ mode: '160000', name: '..', oid: r.git('rev-parse', 'HEAD') }])(s);
  seed(s);
  evilRefused(s, await runPhase1Only(s.root, s.repo.url), /the name "\.\."/);
});

test('two names that are not UTF-8 (a symlink and a file that would both be written as U+FFFD): refused', async () => {
  const s = scene();
  adding((r) => [
    { mode: '120000', name: Buffer.from([0xfe]), oid: blob(r, `${UP.join('/')}/${path.basename(s.outside)}/victim`) },
    { mode: '100644', name: Buffer.from([0xff]), oid: blob(r, 'PWNED\n') },
  ])(s);
  seed(s);
  evilRefused(s, await runPhase1Only(s.root, s.repo.url), /not valid UTF-8/);
});

test('a tree nested deeper than the limit is refused before anything is read from it', async () => {
  const s = scene();
  const deep = nest(s.repo, Array.from({ length: 80 }, () => 'd'), rawTree(s.repo, [{ mode: '100644', name: 'f', oid: blob(s.repo, 'x') }]));
  adding(() => [{ mode: '40000', name: 'deep', oid: deep }])(s);
  seed(s);
  evilRefused(s, await runPhase1Only(s.root, s.repo.url), /nested more than 64 folders deep/);
});

test('a file entry whose object is a tree, and two module folders of one name, are refused', async () => {
  const s = scene();
  const evilTree = s.repo.git('rev-parse', 'HEAD:modules/evil');
  adding(() => [{ mode: '100644', name: 'lib.ts', oid: evilTree }])(s);
  seed(s);
  evilRefused(s, await runPhase1Only(s.root, s.repo.url), /"lib\.ts" is not a file/);

  const t = scene();
  commitEdited(t.repo, ['modules'], (entries) => [...entries, { mode: '40000', name: 'evil', oid: t.repo.git('rev-parse', 'HEAD:modules/good') }]);
  seed(t);
  evilRefused(t, await runPhase1Only(t.root, t.repo.url), /modules\/evil appears twice/);
});
