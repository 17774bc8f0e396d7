// Holds and rollbacks through the real `updates` command: a held module is neither updated nor downgraded until
// unhold; a rollback flips back to the previous version, which later runs keep until a newer version appears.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { acquireLock } from '../../src/orchestrator/lock.js';
import type { RunReport } from '../../src/orchestrator/report.js';
import { fingerprint, globalPackages, liveTargets, liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runCli } from '../helpers/run.js';

const base = (root: string, url: string) => ['--modules-path', root, '--repo-url', url, '--services', 'record'];

/** The messages of JSON log lines on stderr, one a line. */
function messages(stderr: string): string {
  return stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { msg: string }).msg).join('\n');
}

async function runJson(root: string, url: string): Promise<RunReport> {
  const r = await runCli(['--json', ...base(root, url)]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return JSON.parse(r.stdout) as RunReport;
}

test('hold → bump → not updated (nor downgraded) → unhold → updated', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }), ...moduleFiles('db', { version: '2.0.0' }) });
  const root = tempDir();
  assert.equal((await runJson(root, repo.url)).exitCode, 0);

  const hold = await runCli(['hold', 'web', '--reason', 'waiting for the TLS change', '--modules-path', root]);
  assert.equal(hold.code, 0, hold.stderr);
  assert.match(hold.stdout, /web 1\.0\.0 is held by \S+ on .*: waiting for the TLS change/);
  const list = await runCli(['hold', '--json', '--modules-path', root]);
  const holds = JSON.parse(list.stdout) as Record<string, { reason: string; by: string; version: string }>;
  assert.deepEqual(Object.keys(holds), ['web']);
  assert.equal(holds['web']?.reason, 'waiting for the TLS change');
  assert.equal(holds['web']?.version, '1.0.0');

  repo.commit({ ...moduleFiles('web', { version: '1.1.0' }), ...moduleFiles('db', { version: '2.1.0' }) });
  const held = await runCli(['--json', ...base(root, repo.url)]);
  assert.equal(held.code, 0, held.stderr);
  const report = JSON.parse(held.stdout) as RunReport;
  const web = report.updates.find((u) => u.module === 'web');
  assert.equal(web?.status, 'held');
  assert.equal(web?.hold?.reason, 'waiting for the TLS change');
  assert.match(web?.message ?? '', /held by \S+ on \d{4}-.*waiting for the TLS change/);
  assert.deepEqual(liveVersions(root), { db: '2.1.0', web: '1.0.0' }, 'the other module updates, the held one stays');
  assert.match(held.stderr, /update orchestration completed: ok=2 changed=0 failed=0 held=1/);

  // A repository going back does not move a held module either.
  repo.commit(moduleFiles('web', { version: '0.9.0' }));
  assert.equal((await runJson(root, repo.url)).updates.find((u) => u.module === 'web')?.status, 'held');
  assert.equal(liveVersions(root)['web'], '1.0.0');

  repo.commit(moduleFiles('web', { version: '1.2.0' }));
  const unhold = await runCli(['unhold', 'web', '--modules-path', root]);
  assert.equal(unhold.code, 0, unhold.stderr);
  assert.match(unhold.stdout, /web is no longer held/);
  assert.equal((await runCli(['hold', '--modules-path', root])).stdout, 'no module is held\n');
  const after = await runJson(root, repo.url);
  assert.deepEqual(after.updates.find((u) => u.module === 'web'), { module: 'web', from: '1.0.0', to: '1.2.0', status: 'updated' });
  assert.equal(liveVersions(root)['web'], '1.2.0');
});

test('rollback → the next run keeps the previous version → a newer version installs', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  await runJson(root, repo.url);
  const firstTarget = liveTargets(root)['web'];
  repo.commit(moduleFiles('web', { version: '1.1.0' }));
  await runJson(root, repo.url);
  assert.equal(liveVersions(root)['web'], '1.1.0');

  const rb = await runCli(['rollback', 'web', '--modules-path', root]);
  assert.equal(rb.code, 0, rb.stderr);
  assert.match(rb.stdout, /web: rolled back from 1\.1\.0 to 1\.0\.0; 1\.1\.0 is held until the repository carries a newer version/);
  assert.equal(liveTargets(root)['web'], firstTarget, 'the live link points at the earlier version folder again');
  assert.equal(globalPackages(root)['web'], '1.0.0', 'the global index follows');

  const status = JSON.parse((await runCli(['status', '--json', '--modules-path', root])).stdout) as { modules: { module: string; version: string; previous: string | null; held: { kind: string; version?: string }[] }[] };
  assert.deepEqual(status.modules.map((m) => [m.module, m.version, m.previous, m.held.map((h) => `${h.kind} ${h.version ?? ''}`)]), [['web', '1.0.0', null, ['rolled-back 1.1.0']]]);

  const kept = await runJson(root, repo.url);
  assert.equal(kept.exitCode, 0);
  assert.equal(kept.updates.find((u) => u.module === 'web')?.status, 'held');
  assert.match(kept.updates.find((u) => u.module === 'web')?.message ?? '', /1\.1\.0 was rolled back by \S+ on .*waiting for a newer version/);
  assert.equal(liveVersions(root)['web'], '1.0.0');

  repo.commit(moduleFiles('web', { version: '1.2.0' }));
  const newer = await runJson(root, repo.url);
  assert.deepEqual(newer.updates.find((u) => u.module === 'web'), { module: 'web', from: '1.0.0', to: '1.2.0', status: 'updated' });
  assert.equal(liveVersions(root)['web'], '1.2.0');
  const journal = JSON.parse(readFileSync(path.join(root, 'state', 'journal.json'), 'utf8')) as { held: Record<string, unknown> };
  assert.deepEqual(journal.held, {}, 'the hold on 1.1.0 ends when a newer version installs');
});

test('rollback without a previous version, or of a module not installed, is refused and changes nothing', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  await runJson(root, repo.url);
  const before = fingerprint(root, { includeState: true });
  const none = await runCli(['rollback', 'web', '--modules-path', root]);
  assert.equal(none.code, 1);
  assert.match(messages(none.stderr), /module "web" has no previous version to roll back to: only 1\.0\.0 is installed/);
  const missing = await runCli(['rollback', 'mail', '--modules-path', root]);
  assert.equal(missing.code, 1);
  assert.match(messages(missing.stderr), /module "mail" is not installed/);
  const holdMissing = await runCli(['hold', 'mail', '--modules-path', root]);
  assert.equal(holdMissing.code, 1);
  assert.match(messages(holdMissing.stderr), /module "mail" is not installed \(only installed modules can be held\)/);
  const bad = await runCli(['unhold', '--modules-path', root]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unhold needs a module name/);
  assert.equal(fingerprint(root, { includeState: true }), before);
});

test('rollback and hold wait for the run lock: while a run holds it they exit 75', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  await runJson(root, repo.url);
  repo.commit(moduleFiles('web', { version: '1.1.0' }));
  await runJson(root, repo.url);
  const lock = await acquireLock(root);
  try {
    const rb = await runCli(['rollback', 'web', '--modules-path', root]);
    assert.equal(rb.code, 75);
    assert.match(rb.stderr, new RegExp(`another run holds the lock on .* \\(pid ${process.pid}`));
    assert.equal((await runCli(['hold', 'web', '--modules-path', root])).code, 75);
  } finally {
    await lock.release();
  }
  assert.equal(liveVersions(root)['web'], '1.1.0', 'nothing moved while the lock was held');
});
