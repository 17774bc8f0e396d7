// Run reports are ordered and pruned by a persisted sequence number, never by a clock.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DEFAULTS } from '../../src/core/defaults.js';
import { layoutOf } from '../../src/orchestrator/layout.js';
import { listReports, saveReport } from '../../src/orchestrator/report.js';
import type { RunReport } from '../../src/orchestrator/report.js';
import { tempDir } from '../helpers/repo.js';

function report(runId: string, startedAt: string): RunReport {
  return { runId, mode: 'run', startedAt, repository: { url: 'file:///x', branch: 'main' }, orchestrator: { from: '0.1.0', to: null, status: 'current' }, updates: [], modules: [], errors: [], phase2: 'ran', exitCode: 0 };
}

/** A run id for run number i (8 hex digits, as performRun makes them). */
const idOf = (i: number): string => i.toString(16).padStart(8, '0');

test('reports are listed newest first by sequence, whatever the clock said (set back a day, then 10 years ahead)', async () => {
  const layout = layoutOf(tempDir('uo-report'));
  await saveReport(layout, report(idOf(1), '2026-06-01T00:00:00.000Z'));
  await saveReport(layout, report(idOf(2), '2036-06-01T00:00:00.000Z'));
  await saveReport(layout, report(idOf(3), '2026-05-31T00:00:00.000Z'));
  const listed = await listReports(layout);
  assert.deepEqual(listed.map((r) => [r.seq, r.report?.runId]), [[3, idOf(3)], [2, idOf(2)], [1, idOf(1)]]);
  assert.equal((JSON.parse(readFileSync(layout.lastReport, 'utf8')) as RunReport).seq, 3);
});

test('pruning keeps the newest reports by sequence, even when the clock ran backwards all along', async () => {
  const layout = layoutOf(tempDir('uo-report'));
  const total = DEFAULTS.reportsKept + 3;
  // Each run's clock reads a day earlier than the run before it.
  for (let i = 1; i <= total; i++) await saveReport(layout, report(idOf(i), new Date(Date.UTC(2030, 0, 1) - i * 86_400_000).toISOString()));
  const listed = await listReports(layout);
  assert.equal(listed.length, DEFAULTS.reportsKept);
  assert.equal(listed[0]?.report?.runId, idOf(total), 'the newest run is kept and listed first');
  assert.equal(listed.at(-1)?.seq, 4, 'the three oldest runs were pruned');
});

test('reports named by the old wall-clock scheme count as older than any numbered one; a damaged one is listed unread', async () => {
  const layout = layoutOf(tempDir('uo-report'));
  mkdirSync(layout.runsDir, { recursive: true });
  writeFileSync(path.join(layout.runsDir, '2099-01-01T00-00-00-000Z-deadbeef.json'), JSON.stringify(report('deadbeef', '2099-01-01T00:00:00.000Z')));
  await saveReport(layout, report(idOf(1), '2026-01-01T00:00:00.000Z'));
  writeFileSync(path.join(layout.runsDir, '000000000002-0000000f.json'), '{ damaged');
  await saveReport(layout, report(idOf(3), '2026-01-01T00:00:00.000Z'));
  const listed = await listReports(layout);
  assert.deepEqual(listed.map((r) => [r.seq, r.report?.runId]), [[3, idOf(3)], [2, undefined], [1, idOf(1)], [0, 'deadbeef']]);
});
