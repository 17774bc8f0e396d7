// The real `updates` command in a child process: exit codes, check mode, the lock, --json, status.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { acquireLock } from '../../src/orchestrator/lock.js';
import { fingerprint, liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { PROJECT, runCli } from '../helpers/run.js';

const base = (root: string, url: string) => ['--modules-path', root, '--repo-url', url, '--services', 'record'];

test('--help documents every flag and exit code', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const word of ['--repo-url', '--local-repo', '--modules-path', '--branch', '--check-only', '--json', '--root', '--wait', '--module-timeout', ' 75 ', ' 100 ']) {
    assert.ok(r.stdout.includes(word), `help mentions ${word}`);
  }
});

test('an unknown flag is a usage error: exit 2 with a hint', async () => {
  const r = await runCli(['--frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /frobnicate.*updates --help/s);
});

test('check exits 100 when updates are available, 0 when not, and changes nothing', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  const install = await runCli(['run', ...base(root, repo.url)]);
  assert.equal(install.code, 0, install.stderr);
  const none = await runCli(['check', ...base(root, repo.url)]);
  assert.equal(none.code, 0, none.stderr);
  repo.commit(moduleFiles('web', { version: '1.1.0' }));
  const before = fingerprint(root);
  const some = await runCli(['--check-only', '--json', ...base(root, repo.url)]);
  assert.equal(some.code, 100, some.stderr);
  const report = JSON.parse(some.stdout) as { updates: { module: string; from: string; to: string; status: string }[] };
  assert.deepEqual(report.updates, [{ module: 'web', from: '1.0.0', to: '1.1.0', status: 'available' }]);
  assert.equal(fingerprint(root), before, 'check changed nothing installed');
  assert.equal(liveVersions(root)['web'], '1.0.0');
});

test('--json prints one report document on stdout; logs go to stderr', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const r = await runCli(['--json', ...base(tempDir(), repo.url)]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { updates: unknown[]; modules: unknown[]; exitCode: number };
  assert.equal(report.exitCode, 0);
  assert.ok(Array.isArray(report.updates) && Array.isArray(report.modules));
  assert.match(r.stderr, /starting update orchestration/);
});

test('a second run while one holds the lock exits 75 and names the holder', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  const lock = await acquireLock(root);
  try {
    const r = await runCli(base(root, repo.url));
    assert.equal(r.code, 75);
    assert.match(r.stderr, new RegExp(`pid ${process.pid}`));
  } finally {
    await lock.release();
  }
  const after = await runCli(base(root, repo.url));
  assert.equal(after.code, 0, after.stderr);
});

test('a holder killed with SIGKILL leaves no stale lock', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  const holder = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/hold-lock.ts', root], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'inherit'] });
  await once(holder.stdout, 'data');
  const blocked = await runCli(base(root, repo.url));
  assert.equal(blocked.code, 75);
  assert.match(blocked.stderr, new RegExp(`pid ${holder.pid}`));
  holder.kill('SIGKILL');
  await once(holder, 'exit');
  const r = await runCli(base(root, repo.url));
  assert.equal(r.code, 0, r.stderr);
});

test('--wait waits for the holder to finish instead of exiting 75', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  const lock = await acquireLock(root);
  let seenWaiting: () => void = () => undefined;
  const isWaiting = new Promise<void>((resolve) => (seenWaiting = resolve));
  // Released only once the second run says it is waiting for this holder, so it really waited.
  const waiting = runCli(['--wait', ...base(root, repo.url)], { onStderr: (text) => text.includes(`waiting for the run lock (held by pid ${process.pid})`) && seenWaiting() });
  await isWaiting;
  await lock.release();
  const r = await waiting;
  assert.equal(r.code, 0, r.stderr);
});

test('status lists installed modules and the last run', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }), ...moduleFiles('db', { version: '3.0.0', enabled: false }) });
  const root = tempDir();
  await runCli(base(root, repo.url));
  const r = await runCli(['status', '--json', '--modules-path', root]);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { modules: { module: string; version: string; enabled: boolean }[]; lastRun: { exitCode: number } };
  assert.deepEqual(s.modules.map((m) => [m.module, m.version, m.enabled]), [['db', '3.0.0', false], ['web', '1.0.0', true]]);
  assert.equal(s.lastRun.exitCode, 0);
});

test('the lock name comes from a key only the owner can read, so other users cannot squat it', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  assert.equal((await runCli(base(root, repo.url))).code, 0);
  assert.equal(statSync(path.join(root, 'state', 'lock.key')).mode & 0o777, 0o600);
  assert.equal(statSync(path.join(root, 'state')).mode & 0o777, 0o700);
  // A name derived from the install root's path alone (what a local user could compute) is not the lock.
  const squatter = net.createServer().listen(`\0updates-orchestrator/${createHash('sha256').update(root).digest('hex').slice(0, 40)}`);
  await once(squatter, 'listening');
  try {
    assert.equal((await runCli(base(root, repo.url))).code, 0);
  } finally {
    squatter.close();
  }
});

test('check with another or an unreachable --repo-url changes nothing on disk, the private clone included', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  assert.equal((await runCli(['run', ...base(root, repo.url)])).code, 0);
  // A mirror of the same history, one commit ahead, at another URL.
  const mirror = path.join(tempDir(), 'mirror');
  execFileSync('git', ['clone', '-q', repo.dir, mirror]);
  const other = { ...repo, url: pathToFileURL(mirror).href };
  writeFileSync(path.join(mirror, 'modules', 'web', 'index.json'), moduleFiles('web', { version: '2.0.0' })['modules/web/index.json'] ?? '');
  execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', 'commit', '-qam', 'ahead'], { cwd: mirror });
  // A check records only its own report and the metrics (pending updates); everything else stays as it was.
  const unchanged = { includeState: true, except: [path.join('state', 'last-check.json'), 'metrics'] };
  const before = fingerprint(root, unchanged);
  const elsewhere = await runCli(['check', '--json', ...base(root, other.url)]);
  assert.equal(elsewhere.code, 100, elsewhere.stderr);
  assert.deepEqual((JSON.parse(elsewhere.stdout) as { updates: unknown[] }).updates, [{ module: 'web', from: '1.0.0', to: '2.0.0', status: 'available' }]);
  assert.equal(fingerprint(root, unchanged), before, 'a check against another remote left the install root as it was');
  const unreachable = await runCli(['check', ...base(root, `${repo.url}-missing`)]);
  assert.equal(unreachable.code, 1, unreachable.stderr);
  assert.match(unreachable.stderr, /cannot fetch .*nothing installed was changed/);
  assert.doesNotMatch(unreachable.stderr, /making it anew/);
  assert.equal(fingerprint(root, unchanged), before, 'a check against an unreachable remote left the install root as it was');
  repo.commit(moduleFiles('web', { version: '1.1.0' }));
  assert.equal((await runCli(['check', ...base(root, repo.url)])).code, 100);
  assert.equal(fingerprint(root, unchanged), before, 'a check of new commits fetched nothing into the private clone');
});
