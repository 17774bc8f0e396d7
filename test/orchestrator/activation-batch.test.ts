// A batch of installs is marked for activation as a whole (every module's previous and trial links written and
// fsynced together), then made live one module at a time in plan order; a module that cannot be marked fails alone.
import assert from 'node:assert/strict';
import { lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runPhase1Only } from '../helpers/run.js';

const NAMES = ['alpha', 'bravo', 'charlie'];
const all = (version: string): Record<string, string> => Object.assign({}, ...NAMES.map((n) => moduleFiles(n, { version }))) as Record<string, string>;

async function installedOnce(): Promise<{ root: string; repo: ReturnType<typeof makeRepo> }> {
  const repo = makeRepo({ ...rootIndex(), ...all('1.0.0') });
  const root = tempDir();
  const first = await runPhase1Only(root, repo.url);
  assert.equal(first.exitCode, 0, JSON.stringify(first.errors));
  repo.commit(all('2.0.0'));
  return { root, repo };
}

test('every module of a batch has its links on disk before the first of them goes live; then they go live in plan order', async () => {
  const { root, repo } = await installedOnce();
  const events: string[] = [];
  const report = await runPhase1Only(root, repo.url, {
    hook: (step, module) => {
      if (!['previous-recorded', 'trial-recorded', 'flipped'].includes(step)) return;
      if (step === 'trial-recorded') {
        // What the flip depends on is on disk when the hook for it runs: the trial mark names the new version,
        // and `previous` the version still live.
        const versions = path.join(root, '.versions', module);
        assert.match(readlinkSync(path.join(versions, '.trial')), /^2\.0\.0-/);
        assert.equal(readlinkSync(path.join(versions, 'previous')), path.basename(readlinkSync(path.join(root, 'modules', module))));
      }
      events.push(`${step} ${module}`);
    },
  });
  assert.equal(report.exitCode, 0, JSON.stringify(report.errors));
  assert.deepEqual(events, [
    ...NAMES.map((n) => `previous-recorded ${n}`),
    ...NAMES.map((n) => `trial-recorded ${n}`),
    ...NAMES.map((n) => `flipped ${n}`),
  ]);
  assert.deepEqual(liveVersions(root), { alpha: '2.0.0', bravo: '2.0.0', charlie: '2.0.0' });
  for (const n of NAMES) assert.ok(lstatSync(path.join(root, '.versions', n, '.trial')).isSymbolicLink(), `${n} is on trial until its first run`);
});

test('a module of a batch that cannot be marked fails alone: the others go live, and the next run installs it', async () => {
  const { root, repo } = await installedOnce();
  const report = await runPhase1Only(root, repo.url, {
    hook: (step, module) => {
      if (step === 'previous-recorded' && module === 'bravo') throw new Error('the versions folder of bravo refused the trial mark');
    },
  });
  assert.equal(report.exitCode, 1);
  const status = Object.fromEntries(report.updates.map((u) => [u.module, u.status]));
  assert.deepEqual(status, { alpha: 'updated', bravo: 'failed', charlie: 'updated' });
  assert.match(report.updates.find((u) => u.module === 'bravo')?.message ?? '', /refused the trial mark/);
  assert.deepEqual(liveVersions(root), { alpha: '2.0.0', bravo: '1.0.0', charlie: '2.0.0' });

  const rerun = await runPhase1Only(root, repo.url);
  assert.equal(rerun.exitCode, 0, JSON.stringify(rerun.errors));
  assert.deepEqual(liveVersions(root), { alpha: '2.0.0', bravo: '2.0.0', charlie: '2.0.0' });
});
