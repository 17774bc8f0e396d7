// Phase 2 hands the sandbox process the next module ahead (chained): order, deadlines, failures and rollbacks
// stay as if each module were sent only once the one before it had settled.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { createPhase2 } from '../../src/orchestrator/phase2.js';
import type { RunReport } from '../../src/orchestrator/report.js';
import { liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex } from '../helpers/repo.js';
import { orderLog, ordered, sandboxRoot } from '../helpers/order-module.js';
import { runCli, runPhase1Only } from '../helpers/run.js';

test('modules of distinct priorities, handed over ahead, each start only once the one before has written', async () => {
  const names = Array.from({ length: 16 }, (_, i) => `m${String(i).padStart(2, '0')}`);
  const repo = makeRepo({ ...rootIndex(), ...Object.assign({}, ...names.map((n, i) => ordered(n, i + 1))) as Record<string, string> });
  const root = sandboxRoot();
  const install = path.join(root, 'inst');
  const phase2 = createPhase2({ services: 'record' });
  // The first run installs them (each on trial: not chained); the second runs them chained.
  assert.equal((await runPhase1Only(install, repo.url, { root, phase2 })).exitCode, 0);
  const report = await runPhase1Only(install, repo.url, { root, phase2 });
  assert.equal(report.exitCode, 0, JSON.stringify(report.modules));
  assert.deepEqual(orderLog(root), [...names, ...names]);
  assert.deepEqual(report.modules.map((m) => m.module), names, 'reported in order');
});

/**
 * Modules a-first, `middle` (priority 2) and c-after, installed by a first run; the second run, where nothing is on
 * trial and so every module is handed over ahead, is returned with its root.
 */
async function secondRun(middle: Record<string, string>): Promise<{ report: RunReport; root: string }> {
  const repo = makeRepo({ ...rootIndex(), ...ordered('a-first', 1), ...middle, ...ordered('c-after', 3) });
  const root = sandboxRoot();
  const install = path.join(root, 'inst');
  const phase2 = createPhase2({ services: 'record' });
  await runPhase1Only(install, repo.url, { root, phase2 });
  return { report: await runPhase1Only(install, repo.url, { root, phase2 }), root };
}

test('a module that overruns its deadline times out alone; the one after it still runs, after it', async () => {
  // Its first SDK call is answered; then it never returns. Its 1 s deadline is the failure under test.
  const { report, root } = await secondRun(ordered('b-hangs', 2, { timeoutSeconds: 1, before: "await fs.exists('/srv/order/log');\n  await new Promise(() => undefined);" }));
  assert.equal(report.modules.find((m) => m.module === 'b-hangs')?.status, 'timeout');
  assert.equal(report.modules.find((m) => m.module === 'c-after')?.status, 'ok', JSON.stringify(report.modules));
  assert.deepEqual(orderLog(root), ['a-first', 'c-after', 'a-first', 'c-after']);
});

test('the modules handed over behind one that times out never start there; each runs afterwards, in order', async () => {
  // d, e and f are handed over behind b-hangs (DEFAULTS.chainAhead), offered in turn to the worker running it.
  const later = ['c-after', 'd-after', 'e-after', 'f-after'];
  const repo = makeRepo({
    ...rootIndex(),
    ...ordered('a-first', 1),
    ...ordered('b-hangs', 2, { timeoutSeconds: 1, before: "await fs.exists('/srv/order/log');\n  await new Promise(() => undefined);" }),
    ...Object.assign({}, ...later.map((n, i) => ordered(n, i + 3))) as Record<string, string>,
  });
  const root = sandboxRoot();
  const install = path.join(root, 'inst');
  const phase2 = createPhase2({ services: 'record' });
  await runPhase1Only(install, repo.url, { root, phase2 });
  const report = await runPhase1Only(install, repo.url, { root, phase2 });
  assert.equal(report.modules.find((m) => m.module === 'b-hangs')?.status, 'timeout');
  for (const n of later) assert.equal(report.modules.find((m) => m.module === n)?.status, 'ok', JSON.stringify(report.modules));
  assert.deepEqual(report.modules.map((m) => m.module), ['a-first', 'b-hangs', ...later]);
  assert.deepEqual(orderLog(root), ['a-first', ...later, 'a-first', ...later]);
});

test('a module that crashes its worker fails alone; the one after it runs on a fresh worker', async () => {
  const { report, root } = await secondRun(ordered('b-bomb', 2, { before: 'const keep: number[][] = [];\n  for (;;) keep.push(new Array(1_000_000).fill(7));' }));
  assert.equal(report.modules.find((m) => m.module === 'b-bomb')?.status, 'memory', JSON.stringify(report.modules));
  assert.equal(report.modules.find((m) => m.module === 'c-after')?.status, 'ok', JSON.stringify(report.modules));
  assert.deepEqual(orderLog(root), ['a-first', 'c-after', 'a-first', 'c-after']);
});

test('an update on trial that fails is rolled back and its old version runs before the next module starts', async () => {
  const repo = makeRepo({ ...rootIndex(), ...ordered('a-first', 1), ...ordered('b-svc', 2, { tag: 'b-svc 1.0.0' }), ...ordered('c-after', 3) });
  const root = sandboxRoot();
  const install = path.join(root, 'inst');
  const phase2 = createPhase2({ services: 'record' });
  assert.equal((await runPhase1Only(install, repo.url, { root, phase2 })).exitCode, 0);
  // 1.1.0 writes its line, then fails: its old version then runs, and only then the next module.
  const broken = ordered('b-svc', 2, { version: '1.1.0', tag: 'b-svc 1.1.0' });
  const key = 'modules/b-svc/index.ts';
  broken[key] = (broken[key] ?? '').replace('return { success: true };', "throw new Error('regression in 1.1.0');");
  repo.commit(broken);
  const report = await runPhase1Only(install, repo.url, { root, phase2 });
  assert.equal(report.exitCode, 1);
  assert.equal(liveVersions(install)['b-svc'], '1.0.0');
  assert.equal(report.modules.find((m) => m.module === 'b-svc')?.status, 'rolled-back');
  assert.equal(report.modules.find((m) => m.module === 'c-after')?.status, 'ok');
  assert.deepEqual(orderLog(root).slice(3), ['a-first', 'b-svc 1.1.0', 'b-svc 1.0.0', 'c-after']);
});

test('log lines the worker answers itself all reach the log, audited, before their module is reported done', async () => {
  // Each module logs three lines and returns at once: the worker answers its log calls, so the module is
  // done before main has seen its lines. Every line must still be written, audited, and come before its ✓.
  const names = Array.from({ length: 40 }, (_, i) => `log${String(i).padStart(2, '0')}`);
  const files = Object.assign({ ...rootIndex() }, ...names.map((n, i) => moduleFiles(n, {
    version: '1.0.0',
    priority: i + 1,
    body: `await log.info('${n} one');\n  await log.info('${n} two');\n  void log.info('${n} three');\n  return { success: true };`,
  }))) as Record<string, string>;
  const repo = makeRepo(files);
  const root = sandboxRoot();
  const flags = ['--repo-url', repo.url, '--root', root, '--modules-path', '/inst', '--services', 'record'];
  assert.equal((await runCli(flags)).code, 0);
  // The second run: nothing on trial, so every module is handed over ahead.
  const r = await runCli(flags);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.filter((l) => /after its run ended/.test(String(l['msg']))), []);
  for (const n of names) {
    const at = (pred: (l: Record<string, unknown>) => boolean): number[] => lines.flatMap((l, i) => (l['module'] === n && pred(l) ? [i] : []));
    const written = at((l) => l['moduleLog'] === true);
    const audited = at((l) => l['audit'] === true && l['method'] === 'log' && l['decision'] === 'allowed');
    const done = at((l) => String(l['msg']).startsWith('✓ module'));
    assert.deepEqual(written.map((i) => lines[i]?.['msg']), [`${n} one`, `${n} two`, `${n} three`], n);
    assert.equal(audited.length, 3, n);
    assert.equal(done.length, 1, n);
    assert.ok(Math.max(...written, ...audited) < (done[0] as number), `${n}: its lines come before it is reported done`);
  }
});
