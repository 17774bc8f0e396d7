// SIGKILL at every step boundary of an install: every module stays fully old or fully new; the next run converges.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULTS } from '../../src/core/defaults.js';
import { globalPackages, liveTargets, liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runNode, runPhase1Only } from '../helpers/run.js';

/** The step names stageModules, markBatch and Phase 1 (the index, once per batch) report, in order. */
const STEPS = ['files-written', 'staged', 'version-published', 'previous-recorded', 'trial-recorded', 'flipped', 'index-written'] as const;
/** The live version of the crashed module each step must leave. */
const EXPECTED: Record<(typeof STEPS)[number], string> = {
  'files-written': '1.0.0',
  'staged': '1.0.0',
  'version-published': '1.0.0',
  'previous-recorded': '1.0.0',
  'trial-recorded': '1.0.0',
  'flipped': '2.0.0',
  'index-written': '2.0.0',
};

for (const step of STEPS) {
  test(`SIGKILL at "${step}" leaves modules old or new, and the next run converges`, async () => {
    const repo = makeRepo({ ...rootIndex(), ...moduleFiles('one', { version: '1.0.0' }), ...moduleFiles('two', { version: '1.0.0' }) });
    const root = tempDir();
    await runPhase1Only(root, repo.url);
    repo.commit({ ...moduleFiles('one', { version: '2.0.0' }), ...moduleFiles('two', { version: '2.0.0' }) });

    const crashed = await runNode(['test/helpers/crash-runner.ts', root, repo.url, step, 'two']);
    assert.equal(crashed.signal, 'SIGKILL', `the run was killed at ${step}: ${crashed.stderr}`);

    // After the crash: each module is exactly one version, its files complete, and the index claims nothing else.
    // Modules are staged in batches; a batch is marked for activation as a whole (every module's previous and
    // trial links made durable), then made live one by one in plan order. Both modules are one batch: while
    // `two` is being marked, `one` is marked but not live yet; once `two` is flipped, `one` is live; while `two`
    // is still being staged, `one` may be either.
    const versions = liveVersions(root);
    const at = STEPS.indexOf(step);
    if (at >= STEPS.indexOf('flipped')) assert.equal(versions['one'], '2.0.0', 'the module made live before the crashed one is new');
    else if (at >= STEPS.indexOf('previous-recorded')) assert.equal(versions['one'], '1.0.0', 'no module of the batch is live before all are marked');
    else assert.ok(['1.0.0', '2.0.0'].includes(versions['one'] ?? ''), `one is old or new, not ${versions['one']}`);
    assert.equal(versions['two'], EXPECTED[step]);
    for (const name of ['one', 'two']) {
      assert.ok(existsSync(path.join(root, 'modules', name, '.updates', 'bundle.cjs')), `${name} is complete`);
      assert.ok(existsSync(path.join(root, 'modules', name, 'index.ts')), `${name} has its code`);
    }
    // The index is rewritten once per batch, after the batch's flips (both modules are one batch): until then it
    // claims the versions live before, never one that was not live.
    const claimed = globalPackages(root);
    const indexed = step === 'index-written' ? '2.0.0' : '1.0.0';
    assert.equal(claimed['one'], indexed);
    assert.equal(claimed['two'], indexed);

    const rerun = await runPhase1Only(root, repo.url);
    assert.equal(rerun.exitCode, 0, JSON.stringify(rerun.errors));
    assert.deepEqual(liveVersions(root), { one: '2.0.0', two: '2.0.0' });
    assert.deepEqual(globalPackages(root), { one: '2.0.0', two: '2.0.0' });
    // No leftovers: only the live and the previous version of each module remain.
    for (const name of ['one', 'two']) {
      const target = path.basename(liveTargets(root)[name] ?? '');
      assert.ok(existsSync(path.join(root, '.versions', name, target)));
    }
    const index = JSON.parse(readFileSync(path.join(root, 'index.json'), 'utf8')) as unknown;
    assert.ok(index !== null && typeof index === 'object');
  });
}

for (const step of ['staged', 'flipped'] as const) {
  test(`SIGKILL at "${step}" of a module in a later batch: every module old or new, the next run converges`, async () => {
    // Two batches: the first is being made live while the second is staged.
    const names = Array.from({ length: DEFAULTS.stagingBatch + 2 }, (_, i) => `m${String(i).padStart(2, '0')}`);
    const all = (version: string) => Object.assign({}, ...names.map((n) => moduleFiles(n, { version }))) as Record<string, string>;
    const repo = makeRepo({ ...rootIndex(), ...all('1.0.0') });
    const root = tempDir();
    await runPhase1Only(root, repo.url);
    repo.commit(all('2.0.0'));
    const victim = names[names.length - 1] as string;
    const crashed = await runNode(['test/helpers/crash-runner.ts', root, repo.url, step, victim]);
    assert.equal(crashed.signal, 'SIGKILL', `the run was killed at ${step}: ${crashed.stderr}`);
    const versions = liveVersions(root);
    const claimed = globalPackages(root);
    for (const name of names) {
      assert.ok(['1.0.0', '2.0.0'].includes(versions[name] ?? ''), `${name} is old or new, not ${versions[name]}`);
      assert.ok(existsSync(path.join(root, 'modules', name, '.updates', 'install.json')), `${name} is complete`);
      // The index claims what is live, or what was live before the batch that is being made live.
      assert.ok(claimed[name] === versions[name] || claimed[name] === '1.0.0', `the index claims ${name} ${claimed[name]}, live is ${versions[name]}`);
    }
    if (step === 'flipped') assert.equal(versions[victim], '2.0.0');
    const rerun = await runPhase1Only(root, repo.url);
    assert.equal(rerun.exitCode, 0, JSON.stringify(rerun.errors));
    const want = Object.fromEntries(names.map((n) => [n, '2.0.0']));
    assert.deepEqual(liveVersions(root), want);
    assert.deepEqual(globalPackages(root), want);
  });
}
