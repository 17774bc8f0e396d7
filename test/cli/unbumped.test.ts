// A module whose files changed while its schema_version did not is never installed: check and run say so, per module,
// with the version to bump to, instead of staying silent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runCli } from '../helpers/run.js';
import type { RunReport } from '../../src/orchestrator/report.js';

const base = (root: string, url: string) => ['--modules-path', root, '--repo-url', url, '--services', 'record', '--json'];

test('check and run report a changed module whose schema_version did not move, naming the version to bump', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }), ...moduleFiles('db', { version: '2.0.0' }) });
  const root = tempDir('uo-unbumped');
  const first = await runCli(['run', ...base(root, repo.url)]);
  assert.equal(first.code, 0, first.stderr);
  // web's code changes, its version does not; db is untouched
  repo.commit(moduleFiles('web', { version: '1.0.0', body: "return { success: true, message: 'new code' };" }));

  const check = await runCli(['check', ...base(root, repo.url)]);
  assert.equal(check.code, 0, check.stderr);
  const report = JSON.parse(check.stdout) as RunReport;
  assert.deepEqual(report.updates.map((u) => [u.module, u.status]), [['web', 'unbumped']]);
  assert.match(report.updates[0]?.message ?? '', /modules\/web changed since 1\.0\.0 was installed, but its schema_version is still 1\.0\.0.*bump metadata\.schema_version in modules\/web\/index\.json \(e\.g\. to 1\.0\.1\)/);
  assert.match(check.stderr, /"module":"web".*modules\/web changed since 1\.0\.0/);

  const run = await runCli(['run', ...base(root, repo.url)]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual((JSON.parse(run.stdout) as RunReport).updates.map((u) => [u.module, u.status]), [['web', 'unbumped']]);
  assert.deepEqual(liveVersions(root), { db: '2.0.0', web: '1.0.0' });

  // bumped, it installs, and the warning is gone
  repo.commit(moduleFiles('web', { version: '1.0.1', body: "return { success: true, message: 'new code' };" }));
  const bumped = await runCli(['run', ...base(root, repo.url)]);
  assert.deepEqual((JSON.parse(bumped.stdout) as RunReport).updates.map((u) => [u.module, u.status]), [['web', 'updated']]);
  const after = await runCli(['check', ...base(root, repo.url)]);
  assert.deepEqual((JSON.parse(after.stdout) as RunReport).updates, []);
});
