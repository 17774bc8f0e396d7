// Phase 1 end to end against real git repositories: install, no-op, bump, invalid input, rewritten history.
import assert from 'node:assert/strict';
import childProcess, { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DEFAULTS } from '../../src/core/defaults.js';
import { fingerprint, globalPackages, liveTargets, liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runPhase1Only } from '../helpers/run.js';
import { silentLogger } from '../../src/core/logger.js';
import { plainConfig, syncRepository } from '../../src/orchestrator/git.js';
import { layoutOf } from '../../src/orchestrator/layout.js';
import { bundleModule } from '../../src/sandbox/build/bundle.js';

const three = () => ({
  ...rootIndex(),
  ...moduleFiles('alpha', { version: '1.0.0' }),
  ...moduleFiles('beta', { version: '1.0.0' }),
  ...moduleFiles('gamma', { version: '2.1.0' }),
});

test('first run installs every module and derives the global index', async () => {
  const repo = makeRepo(three());
  const root = tempDir();
  const report = await runPhase1Only(root, repo.url);
  assert.equal(report.exitCode, 0, JSON.stringify(report.errors));
  assert.deepEqual(liveVersions(root), { alpha: '1.0.0', beta: '1.0.0', gamma: '2.1.0' });
  assert.deepEqual(globalPackages(root), { alpha: '1.0.0', beta: '1.0.0', gamma: '2.1.0' });
  assert.deepEqual(report.updates.map((u) => [u.module, u.from, u.to, u.status]), [
    ['alpha', null, '1.0.0', 'installed'],
    ['beta', null, '1.0.0', 'installed'],
    ['gamma', null, '2.1.0', 'installed'],
  ]);
  for (const [name, target] of Object.entries(liveTargets(root))) {
    assert.match(target, new RegExp(`^\\.\\./\\.versions/${name}/\\d+\\.\\d+\\.\\d+-[0-9a-f]{12}$`));
    assert.ok(existsSync(path.join(root, 'modules', name, '.updates', 'bundle.cjs')), `${name} has its bundle`);
  }
});

test('a second run with nothing new changes nothing installed', async () => {
  const repo = makeRepo(three());
  const root = tempDir();
  await runPhase1Only(root, repo.url);
  const before = fingerprint(root);
  const report = await runPhase1Only(root, repo.url);
  assert.equal(report.exitCode, 0);
  assert.deepEqual(report.updates, []);
  assert.equal(fingerprint(root), before);
});

test('one module bumped: only it changes, its previous version is kept for rollback', async () => {
  const repo = makeRepo(three());
  const root = tempDir();
  await runPhase1Only(root, repo.url);
  const before = liveTargets(root);
  repo.commit(moduleFiles('beta', { version: '1.1.0' }), 'bump beta');
  const report = await runPhase1Only(root, repo.url);
  assert.equal(report.exitCode, 0);
  assert.deepEqual(report.updates.map((u) => [u.module, u.from, u.to, u.status]), [['beta', '1.0.0', '1.1.0', 'updated']]);
  const after = liveTargets(root);
  assert.equal(after['alpha'], before['alpha']);
  assert.equal(after['gamma'], before['gamma']);
  assert.notEqual(after['beta'], before['beta']);
  assert.equal(readlinkSync(path.join(root, '.versions', 'beta', 'previous')), path.basename(before['beta'] ?? ''));
  assert.deepEqual(globalPackages(root), { alpha: '1.0.0', beta: '1.1.0', gamma: '2.1.0' });
});

test('an invalid manifest and an invalid version are reported by name; the others install; exit 1', async () => {
  const repo = makeRepo({
    ...rootIndex(),
    ...moduleFiles('good', { version: '1.0.0' }),
    ...moduleFiles('badver', { version: 'one.two' }),
    'modules/broken/index.json': '{ "metadata": ',
    'modules/broken/index.ts': 'export async function main() { return { success: true }; }\n',
  });
  const root = tempDir();
  const report = await runPhase1Only(root, repo.url);
  assert.equal(report.exitCode, 1);
  assert.deepEqual(liveVersions(root), { good: '1.0.0' });
  const badver = report.updates.find((u) => u.module === 'badver');
  assert.equal(badver?.status, 'invalid');
  assert.match(badver?.message ?? '', /badver.*schema_version "one\.two" is not a semantic version/);
  const broken = report.updates.find((u) => u.module === 'broken');
  assert.match(broken?.message ?? '', /broken.*not valid JSON/);
  assert.deepEqual(report.errors.map((e) => e.code).sort(), ['E_MANIFEST_INVALID', 'E_MANIFEST_INVALID']);
});

test('a module that does not build is never activated; the installed version stays live', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('svc', { version: '1.0.0' }) });
  const root = tempDir();
  await runPhase1Only(root, repo.url);
  const before = liveTargets(root);
  repo.commit({
    'modules/svc/index.json': JSON.stringify({ metadata: { schema_version: '1.1.0' } }),
    'modules/svc/index.ts': "import { readFileSync } from 'node:fs';\nexport async function main() { readFileSync('/etc/shadow'); return { success: true }; }\n",
  });
  const report = await runPhase1Only(root, repo.url);
  assert.equal(report.exitCode, 1);
  const u = report.updates.find((x) => x.module === 'svc');
  assert.equal(u?.status, 'failed');
  assert.match(u?.message ?? '', /node:fs/);
  assert.deepEqual(liveTargets(root), before);
  assert.deepEqual(globalPackages(root), { svc: '1.0.0' });
  assert.deepEqual(readdirNoHidden(path.join(root, '.versions', 'svc')), [path.basename(before['svc'] ?? '')]);
});

test('a repository that reverts a version in a new commit downgrades nothing', async () => {
  const repo = makeRepo(three());
  const root = tempDir();
  repo.commit(moduleFiles('alpha', { version: '1.5.0' }), 'bump alpha');
  await runPhase1Only(root, repo.url);
  assert.equal(liveVersions(root)['alpha'], '1.5.0');
  repo.commit(moduleFiles('alpha', { version: '1.0.0' }), 'revert alpha');
  const report = await runPhase1Only(root, repo.url);
  assert.equal(report.exitCode, 0);
  assert.equal(liveVersions(root)['alpha'], '1.5.0');
  const alpha = report.updates.find((u) => u.module === 'alpha');
  assert.equal(alpha?.status, 'kept-newer');
  assert.match(alpha?.message ?? '', /never downgraded/);
});

test('an unreachable remote is a clear error, exit 1, and nothing installed changes', async () => {
  const repo = makeRepo(three());
  const root = tempDir();
  await runPhase1Only(root, repo.url);
  const before = fingerprint(root);
  const missing = `${repo.url}-gone`;
  const report = await runPhase1Only(root, missing);
  assert.equal(report.exitCode, 1);
  assert.equal(report.errors[0]?.code, 'E_SYNC_UNREACHABLE');
  assert.match(report.errors[0]?.message ?? '', /cannot fetch .*-gone.*nothing installed was changed/);
  assert.equal(fingerprint(root), before);
});

test('a missing branch says so', async () => {
  const repo = makeRepo(three());
  const report = await runPhase1Only(tempDir(), repo.url, { branch: 'nope' });
  assert.equal(report.exitCode, 1);
  assert.equal(report.errors[0]?.code, 'E_SYNC_NO_BRANCH');
});

test('a corrupt local clone is made anew and the run succeeds', async () => {
  const repo = makeRepo(three());
  const root = tempDir();
  await runPhase1Only(root, repo.url);
  rmSync(path.join(root, 'state', 'repo.git', 'objects'), { recursive: true, force: true });
  repo.commit(moduleFiles('gamma', { version: '2.2.0' }));
  const report = await runPhase1Only(root, repo.url);
  assert.equal(report.exitCode, 0, JSON.stringify(report.errors));
  assert.equal(report.repository.recloned, true);
  assert.equal(liveVersions(root)['gamma'], '2.2.0');
});

test('stray files in the clone never reach an install: modules are read from the commit', async () => {
  const repo = makeRepo(three());
  const root = tempDir();
  await runPhase1Only(root, repo.url);
  // A bare clone has no working tree; a file dropped into it is not part of any commit.
  const clone = path.join(root, 'state', 'repo.git');
  mkdirSync(path.join(clone, 'modules', 'evil'), { recursive: true });
  writeFileSync(path.join(clone, 'modules', 'evil', 'index.json'), JSON.stringify({ metadata: { schema_version: '9.9.9' } }));
  const report = await runPhase1Only(root, repo.url);
  assert.equal(report.exitCode, 0);
  assert.equal(liveTargets(root)['evil'], undefined);
});

function readdirNoHidden(dir: string): string[] {
  return readdirSync(dir).filter((n) => !n.startsWith('.') && n !== 'previous');
}

test('the local clone is packed once it reaches git\'s own pack limit, and left alone below it', async () => {
  const repo = makeRepo(three());
  const root = tempDir();
  await runPhase1Only(root, repo.url);
  const clone = path.join(root, 'state', 'repo.git');
  const packs = (): number => readdirSync(path.join(clone, 'objects', 'pack')).filter((f) => f.endsWith('.pack')).length;
  const fetchAsPack = (): void => {
    // unpackLimit=1: git keeps what each fetch brings as a pack of its own, as large fetches do. maintenance.auto
    // off: past the limit, git's own fetch would start a gc in the background, which races the run under test
    // (the run then finds the maintenance lock taken and leaves the packing to it).
    execFileSync('git', ['--git-dir', clone, '-c', 'fetch.unpackLimit=1', '-c', 'maintenance.auto=false', 'fetch', '-q', 'origin', '+refs/heads/main:refs/remotes/origin/main'], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
  };
  for (let i = 0; i < 3; i++) {
    repo.commit({ [`notes/few-${i}.txt`]: `${i}\n` });
    fetchAsPack();
  }
  const few = packs();
  assert.ok(few >= 3, `the clone has ${few} packs`);
  assert.equal((await runPhase1Only(root, repo.url)).exitCode, 0);
  assert.equal(packs(), few, 'a clone below the limit is not repacked');
  while (packs() <= 50) {
    repo.commit({ [`notes/many-${packs()}.txt`]: `${packs()}\n` });
    fetchAsPack();
  }
  const before = packs();
  const report = await runPhase1Only(root, repo.url);
  assert.equal(report.exitCode, 0, JSON.stringify(report.errors));
  assert.ok(packs() <= 50 && packs() < before, `the run packed the clone (${before} packs before, ${packs()} after)`);
  // Still a working clone: the next change installs.
  repo.commit(moduleFiles('gamma', { version: '2.3.0' }));
  assert.equal((await runPhase1Only(root, repo.url)).exitCode, 0);
  assert.equal(liveVersions(root)['gamma'], '2.3.0');
});

test('the local clone is packed once it holds more than 1,000 loose objects', async () => {
  const repo = makeRepo(three());
  const root = tempDir();
  await runPhase1Only(root, repo.url);
  const objects = path.join(root, 'state', 'repo.git', 'objects');
  const loose = (): number => readdirSync(objects).filter((d) => /^[0-9a-f]{2}$/.test(d)).reduce((n, d) => n + readdirSync(path.join(objects, d)).length, 0);
  // 1,100 small files in one commit, fetched loose (as fetches of fewer objects than git's unpackLimit arrive).
  repo.commit(Object.fromEntries(Array.from({ length: 1100 }, (_, i) => [`notes/n${i}.txt`, `${i}\n`])));
  execFileSync('git', ['--git-dir', path.dirname(objects), '-c', 'fetch.unpackLimit=100000', '-c', 'maintenance.auto=false', 'fetch', '-q', 'origin', '+refs/heads/main:refs/remotes/origin/main'], { env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
  const before = loose();
  assert.ok(before > 1000, `the clone has ${before} loose objects`);
  const report = await runPhase1Only(root, repo.url);
  assert.equal(report.exitCode, 0, JSON.stringify(report.errors));
  assert.ok(loose() < 100, `the run packed the clone (${before} loose objects before, ${loose()} after)`);
  repo.commit(moduleFiles('gamma', { version: '2.3.0' }));
  assert.equal((await runPhase1Only(root, repo.url)).exitCode, 0);
  assert.equal(liveVersions(root)['gamma'], '2.3.0');
});

test('a clone whose origin was pointed elsewhere is made anew; an include in its config is read by git itself', async () => {
  const repo = makeRepo(three());
  // Another remote with the same history (a mirror), so only the URL differs.
  const mirror = path.join(tempDir(), 'mirror.git');
  execFileSync('git', ['clone', '-q', '--bare', repo.dir, mirror]);
  const other = { url: pathToFileURL(mirror).href };
  const root = tempDir();
  await runPhase1Only(root, repo.url);
  const config = path.join(root, 'state', 'repo.git', 'config');
  const written = readFileSync(config, 'utf8');
  // The config git wrote for the clone is read without a git process; what is not plain is left to git.
  assert.equal(plainConfig(written)?.get('remote.origin.url'), repo.url);
  assert.equal(plainConfig(written)?.get('core.bare'), 'true');
  for (const odd of ['[include]\n\tpath = x\n', '[core]\n\tbare = true\n\tbare = false\n', '[remote "origin"]\n\turl = "x"\n', '[core]\n\tbare = true ; no\n', '\tbare = true\n']) {
    assert.equal(plainConfig(odd), undefined, odd);
  }
  // The URL given now is another remote than the clone's: the clone is made anew, from the new remote.
  let report = await runPhase1Only(root, other.url);
  assert.equal(report.exitCode, 0, JSON.stringify(report.errors));
  assert.equal(report.repository.recloned, true);
  // A config that sets the origin only through an include: git resolves it, and the clone is kept.
  const included = path.join(tempDir(), 'origin.conf');
  writeFileSync(included, `[remote "origin"]\n\turl = ${other.url}\n`);
  writeFileSync(config, `${written.replace(/\[remote "origin"\][^[]*/, '')}[include]\n\tpath = ${included}\n`);
  report = await runPhase1Only(root, other.url);
  assert.equal(report.exitCode, 0, JSON.stringify(report.errors));
  assert.equal(report.repository.recloned, false);
  // Quoted and commented values are git's to read too: the same origin, spelled so, keeps the clone.
  writeFileSync(config, `${written.replace(/url = .*/, `url = "${other.url}" # the updates repository`)}`);
  report = await runPhase1Only(root, other.url);
  assert.equal(report.exitCode, 0, JSON.stringify(report.errors));
  assert.equal(report.repository.recloned, false);
});

test('many modules bumped at once: one that does not build fails alone with its own E_BUILD; the others install', async () => {
  // More modules than one staging batch holds, so the install spans batches.
  const names = Array.from({ length: DEFAULTS.stagingBatch + 3 }, (_, i) => `m${String(i).padStart(2, '0')}`);
  const all = (version: string) => Object.assign({ ...rootIndex() }, ...names.map((n) => moduleFiles(n, { version }))) as Record<string, string>;
  const repo = makeRepo(all('1.0.0'));
  const root = tempDir();
  assert.equal((await runPhase1Only(root, repo.url)).exitCode, 0);
  const bad = names[3] as string;
  repo.commit({
    ...all('2.0.0'),
    [`modules/${bad}/index.ts`]: "import { execSync } from 'node:child_process';\nexport async function main() { execSync('id'); return { success: true }; }\n",
  });
  const report = await runPhase1Only(root, repo.url);
  assert.equal(report.exitCode, 1);
  assert.deepEqual(report.errors.map((e) => e.code), ['E_BUILD']);
  assert.match(report.errors[0]?.message ?? '', new RegExp(`module "${bad}" does not build: .*index\\.ts imports 'node:child_process'`));
  for (const u of report.updates) assert.equal(u.status, u.module === bad ? 'failed' : 'updated', u.module);
  const want = Object.fromEntries(names.map((n) => [n, n === bad ? '1.0.0' : '2.0.0']));
  assert.deepEqual(liveVersions(root), want);
  assert.deepEqual(globalPackages(root), want);
  for (const n of names) {
    const dir = path.join(root, 'modules', n);
    assert.ok(existsSync(path.join(dir, '.updates', 'bundle.cjs')) && existsSync(path.join(dir, '.updates', 'install.json')), `${n} is complete`);
  }
  assert.deepEqual(readdirSync(path.join(root, '.versions', bad)).filter((e) => e.startsWith('.staging-')), [], 'no staging folder is left');
  // Each bundle is the module's own: it names its own version.
  assert.match(readFileSync(path.join(root, 'modules', names[0] as string, '.updates', 'bundle.cjs'), 'utf8'), new RegExp(`${names[0]} 2\\.0\\.0`));
});

test('the builder is started ahead when a new commit is fetched, and not when the repository stayed where it was', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  let warmed = 0;
  const build = Object.assign((dir: string, name: string) => bundleModule(dir, name), {
    many: bundleModule.many,
    warm: () => {
      warmed += 1;
      bundleModule.warm();
    },
  });
  const run = async (): Promise<number> => {
    warmed = 0;
    const report = await runPhase1Only(root, repo.url, { build });
    assert.equal(report.exitCode, 0, JSON.stringify(report.errors));
    return warmed;
  };
  assert.equal(await run(), 1, 'first install');
  assert.equal(await run(), 0, 'nothing new');
  repo.commit(moduleFiles('web', { version: '1.1.0' }));
  assert.equal(await run(), 1, 'a new commit');
  assert.equal(liveVersions(root)['web'], '1.1.0');
});

test('the fetch starts within the sync\'s first synchronous step, so it runs beside the read of what is installed', async () => {
  const repo = makeRepo(three());
  const root = tempDir();
  assert.equal((await runPhase1Only(root, repo.url)).exitCode, 0);
  const spawned: string[][] = [];
  const spawn = childProcess.spawn;
  childProcess.spawn = ((command: string, args: readonly string[], options: childProcess.SpawnOptions) => {
    spawned.push([command, ...args]);
    return spawn(command, args, options);
  }) as typeof childProcess.spawn;
  syncBuiltinESMExports();
  try {
    const syncing = syncRepository({ repoDir: layoutOf(root).repoDir, url: repo.url, branch: 'main', logger: silentLogger() });
    // Nothing has had a turn of the event loop yet: a fetch behind a thread-pool round trip would not be here.
    const atOnce = spawned.filter((argv) => argv.includes('fetch'));
    await syncing;
    assert.equal(atOnce.length, 1, `git fetch was spawned before syncRepository's first await; spawned: ${JSON.stringify(spawned.map((a) => a.slice(0, 3)))}`);
  } finally {
    childProcess.spawn = spawn;
    syncBuiltinESMExports();
  }
});

test('a sync resolves the fetched commit through the snapshot\'s own cat-file process: no rev-parse, one reader in a steady run', async () => {
  const repo = makeRepo(three());
  const root = tempDir();
  assert.equal((await runPhase1Only(root, repo.url)).exitCode, 0);
  let git: string[][] = [];
  const { spawn, execFile } = childProcess;
  childProcess.spawn = ((command: string, args: readonly string[], options: childProcess.SpawnOptions) => {
    if (command === 'git') git.push([...args]);
    return spawn(command, args, options);
  }) as typeof childProcess.spawn;
  childProcess.execFile = ((file: string, args: readonly string[], ...rest: unknown[]) => {
    if (file === 'git') git.push([...args]);
    return (execFile as (...a: unknown[]) => childProcess.ChildProcess)(file, args, ...rest);
  }) as typeof childProcess.execFile;
  syncBuiltinESMExports();
  /** The git subcommand of each git process started since the last call. */
  const commands = (): string[] => git.splice(0).map((args) => args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? '');
  try {
    const report = await runPhase1Only(root, repo.url);
    assert.equal(report.exitCode, 0, JSON.stringify(report.errors));
    const steady = commands();
    assert.deepEqual(steady.filter((c) => c !== 'fetch'), ['cat-file'], JSON.stringify(steady));
    // A new commit is found the same way.
    const moved = repo.commit(moduleFiles('alpha', { version: '1.1.0' }));
    git = [];
    const next = await runPhase1Only(root, repo.url);
    assert.equal(next.repository.commit, moved);
    assert.equal(liveVersions(root)['alpha'], '1.1.0');
    assert.deepEqual(commands().filter((c) => c === 'rev-parse'), []);
  } finally {
    childProcess.spawn = spawn;
    childProcess.execFile = execFile;
    syncBuiltinESMExports();
  }
});
