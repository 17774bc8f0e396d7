/**
 * Past runs, newest first, from the saved run reports (state/runs/, the newest DEFAULTS.reportsKept).
 */
import type { Layout } from './layout.js';
import { recapOf } from './recap.js';
import type { Recap } from './recap.js';
import { listReports } from './report.js';
import type { RunReport } from './report.js';

export interface HistoryEntry {
  runId: string;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
  exitCode: number | null;
  commit: string | null;
  recap: Recap;
  /** Module versions (and the orchestrator) that went live. */
  installed: { module: string; from: string | null; to: string | null }[];
  /** Installs and runs that failed, versions rolled back, errors of the run itself. */
  failed: { module: string | null; status: string; message: string }[];
}

const INSTALLED = new Set(['installed', 'updated', 'repaired']);

export function historyEntry(r: RunReport): HistoryEntry {
  const installed = r.updates.filter((u) => INSTALLED.has(u.status)).map((u) => ({ module: u.module, from: u.from, to: u.to }));
  if (r.orchestrator.status === 'updated') installed.push({ module: 'orchestrator', from: r.orchestrator.from, to: r.orchestrator.to });
  const failed: HistoryEntry['failed'] = [];
  for (const u of r.updates) if (u.status === 'failed' || u.status === 'invalid' || u.status === 'rolled-back') failed.push({ module: u.module, status: u.status, message: u.message ?? '' });
  for (const m of r.modules) {
    if (m.status === 'ok' || m.status === 'disabled') continue;
    if (!failed.some((f) => f.module === m.module && f.status === m.status)) failed.push({ module: m.module, status: m.status, message: m.message ?? '' });
  }
  const told = new Set(failed.map((f) => f.message));
  for (const e of r.errors) if (![...told].some((t) => t !== '' && t.includes(e.message))) failed.push({ module: null, status: e.code, message: e.message });
  return {
    runId: r.runId,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt ?? null,
    durationMs: r.durationMs ?? null,
    exitCode: r.exitCode ?? null,
    commit: r.repository.commit ?? null,
    recap: recapOf(r),
    installed,
    failed,
  };
}

/** The newest `limit` runs, newest first (by the reports' sequence numbers, never the clock); unreadable reports are skipped. */
export async function readHistory(layout: Layout, limit: number): Promise<HistoryEntry[]> {
  const reports = (await listReports(layout)).flatMap((r) => (r.report !== undefined ? [r.report] : []));
  return reports.slice(0, limit).map(historyEntry);
}
