// Phase 2 through a full run: every enabled module runs in priority order, failures stay contained, and a
// module that fails right after its update is rolled back, its old version run once, both reported.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createPhase2 } from '../../src/orchestrator/phase2.js';
import { liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex } from '../helpers/repo.js';
import { ordered, sandboxRoot } from '../helpers/order-module.js';
import { runNode, runPhase1Only } from '../helpers/run.js';

test('enabled modules run by priority then name; disabled ones are updated but not run', async () => {
  const repo = makeRepo({
    ...rootIndex(),
    ...ordered('zeta', 10),
    ...ordered('alpha', 50),
    ...ordered('beta', 50),
    ...ordered('first', 5),
    ...moduleFiles('off', { version: '1.0.0', enabled: false, body: "throw new Error('a disabled module must not run');" }),
  });
  const root = sandboxRoot();
  const install = path.join(root, 'var', 'lib', 'updates');
  const report = await runPhase1Only(install, repo.url, { root, phase2: createPhase2({ services: 'record', poolSize: 1 }) });
  assert.equal(report.exitCode, 0, JSON.stringify(report.modules));
  assert.equal(readFileSync(path.join(root, 'srv', 'order', 'log'), 'utf8'), 'first\nzeta\nalpha\nbeta\n');
  assert.deepEqual(report.modules.find((m) => m.module === 'off')?.status, 'disabled');
  assert.equal(liveVersions(install)['off'], '1.0.0', 'a disabled module is still installed');
});

test('a failing module does not stop the others; the run exits 1 and names it', async () => {
  const repo = makeRepo({ ...rootIndex(), ...ordered('bad', 1, { before: "throw new Error('boom');" }), ...ordered('good', 2) });
  const root = sandboxRoot();
  const report = await runPhase1Only(path.join(root, 'inst'), repo.url, { root, phase2: createPhase2({ services: 'record' }) });
  assert.equal(report.exitCode, 1);
  const bad = report.modules.find((m) => m.module === 'bad');
  assert.equal(bad?.status, 'failed');
  assert.match(bad?.message ?? '', /boom/);
  assert.equal(report.modules.find((m) => m.module === 'good')?.status, 'ok');
});

test('an update that fails its first run is rolled back, the old version runs once, and the version is held', async () => {
  const repo = makeRepo({ ...rootIndex(), ...ordered('svc', 1) });
  const root = sandboxRoot();
  const install = path.join(root, 'inst');
  const phase2 = createPhase2({ services: 'record' });
  assert.equal((await runPhase1Only(install, repo.url, { root, phase2 })).exitCode, 0);
  const broken = moduleFiles('svc', { version: '1.1.0', body: "throw new Error('regression in 1.1.0');" });
  repo.commit(broken);
  const report = await runPhase1Only(install, repo.url, { root, phase2 });
  assert.equal(report.exitCode, 1);
  assert.equal(liveVersions(install)['svc'], '1.0.0');
  const upd = report.updates.find((u) => u.module === 'svc');
  assert.equal(upd?.status, 'rolled-back');
  const mod = report.modules.find((m) => m.module === 'svc');
  assert.equal(mod?.status, 'rolled-back');
  assert.match(mod?.message ?? '', /1\.1\.0 failed .*regression in 1\.1\.0.*rolled back to 1\.0\.0, which ran successfully/);
  assert.equal(readFileSync(path.join(root, 'srv', 'order', 'log'), 'utf8'), 'svc\nsvc\n', 'the old version ran in both runs');
  const idx = JSON.parse(readFileSync(path.join(install, 'index.json'), 'utf8')) as { packages: Record<string, string> };
  assert.equal(idx.packages['svc'], '1.0.0');

  const again = await runPhase1Only(install, repo.url, { root, phase2 });
  assert.equal(again.updates.find((u) => u.module === 'svc')?.status, 'held');
  assert.equal(liveVersions(install)['svc'], '1.0.0');
  const fixedFiles = ordered('svc', 1);
  fixedFiles['modules/svc/index.json'] = (fixedFiles['modules/svc/index.json'] ?? '').replace('"1.0.0"', '"1.2.0"');
  repo.commit(fixedFiles);
  const fixed = await runPhase1Only(install, repo.url, { root, phase2 });
  assert.equal(fixed.exitCode, 0, JSON.stringify(fixed.modules));
  assert.equal(liveVersions(install)['svc'], '1.2.0', 'a newer version is installed again');
});

for (const step of ['trial-recorded', 'flipped', 'index-written']) {
  test(`an update killed at "${step}", before its first run, is on trial: the next run rolls it back when it fails`, async () => {
    const repo = makeRepo({ ...rootIndex(), ...ordered('svc', 1) });
    const root = sandboxRoot();
    const install = path.join(root, 'inst');
    const phase2 = createPhase2({ services: 'record' });
    assert.equal((await runPhase1Only(install, repo.url, { root, phase2 })).exitCode, 0);
    repo.commit(moduleFiles('svc', { version: '1.1.0', body: "throw new Error('regression in 1.1.0');" }));
    // Killed after the version was marked on trial, so before Phase 2 could run it.
    const crashed = await runNode(['test/helpers/crash-runner.ts', install, repo.url, step, 'svc']);
    assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);

    const report = await runPhase1Only(install, repo.url, { root, phase2 });
    assert.equal(report.exitCode, 1);
    assert.equal(liveVersions(install)['svc'], '1.0.0', 'the failing trial version was rolled back');
    const mod = report.modules.find((m) => m.module === 'svc');
    assert.equal(mod?.status, 'rolled-back');
    assert.match(mod?.message ?? '', /1\.1\.0 failed .*regression in 1\.1\.0.*rolled back to 1\.0\.0, which ran successfully/);

    const again = await runPhase1Only(install, repo.url, { root, phase2 });
    assert.equal(again.exitCode, 0, JSON.stringify(again.modules));
    assert.equal(again.updates.find((u) => u.module === 'svc')?.status, 'held', 'the failed version is held, not installed again');
    assert.equal(liveVersions(install)['svc'], '1.0.0');
  });
}

test('a version that completed its first run is on trial no more: a later failure is not rolled back', async () => {
  const repo = makeRepo({ ...rootIndex(), ...ordered('svc', 1) });
  const root = sandboxRoot();
  const install = path.join(root, 'inst');
  const phase2 = createPhase2({ services: 'record' });
  assert.equal((await runPhase1Only(install, repo.url, { root, phase2 })).exitCode, 0);
  const updated = ordered('svc', 1, { before: "if (await fs.exists('/srv/order/fail')) throw new Error('failing now');" });
  updated['modules/svc/index.json'] = (updated['modules/svc/index.json'] ?? '').replace('"1.0.0"', '"1.1.0"');
  repo.commit(updated);
  assert.equal((await runPhase1Only(install, repo.url, { root, phase2 })).exitCode, 0);
  assert.equal(existsSync(path.join(install, '.versions', 'svc', '.trial')), false, 'the first run ended the trial');
  writeFileSync(path.join(root, 'srv', 'order', 'fail'), '');
  const later = await runPhase1Only(install, repo.url, { root, phase2 });
  assert.equal(later.modules.find((m) => m.module === 'svc')?.status, 'failed');
  assert.equal(liveVersions(install)['svc'], '1.1.0', 'a confirmed version stays live');
});
