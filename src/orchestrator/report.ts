/**
 * The run report: one JSON document per run (printed with --json, saved as state/last-run.json and in
 * state/runs/), plus Prometheus text-format metrics for node_exporter's textfile collector.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DEFAULTS } from '../core/defaults.js';
import { errnoCode } from '../core/errno.js';
import type { PlainError } from '../core/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../core/fs-atomic.js';
import type { Layout } from './layout.js';

export type UpdateStatus = 'installed' | 'updated' | 'repaired' | 'available' | 'failed' | 'invalid' | 'held' | 'rolled-back' | 'kept-newer' | 'local-only';
export type ModuleStatus = 'ok' | 'failed' | 'timeout' | 'memory' | 'exited' | 'disabled' | 'rolled-back';

/** current: nothing newer; available: newer in the repository (check mode); updated: installed and running;
 * failed: refused (did not build or pass its self-test); rolled-back: its first run failed; held: a refused version. */
export type OrchestratorStatus = 'current' | 'available' | 'updated' | 'failed' | 'rolled-back' | 'held' | 'newer-installed' | 'unknown';

export interface UpdateEntry { module: string; from: string | null; to: string | null; status: UpdateStatus; message?: string }
export interface ModuleEntry { module: string; status: ModuleStatus; version?: string; durationMs?: number; changed?: boolean; message?: string; code?: string }
/** A run-level error in the report: the catalogue's plain error shape. */
export type ReportError = PlainError;

export interface RunReport {
  runId: string;
  /** The run's place among this install root's saved reports (1, 2, …); set when the report is saved. */
  seq?: number;
  mode: 'run' | 'check';
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  exitCode?: number;
  repository: { url: string; branch: string; commit?: string; recloned?: boolean; signature?: 'verified' };
  orchestrator: { from: string; to: string | null; status: OrchestratorStatus; message?: string };
  updates: UpdateEntry[];
  modules: ModuleEntry[];
  errors: ReportError[];
  phase2: 'ran' | 'not-run';
  /** completed: the run got to its end; interrupted: SIGTERM or SIGINT (`signal`) stopped it (exit code 143 or 130). */
  status?: 'completed' | 'interrupted';
  signal?: 'SIGTERM' | 'SIGINT';
  /** Set when this process installed a new orchestrator and the new one finished the run (its report is the run's). */
  handedOver?: boolean;
}

/**
 * A saved report's file name: its sequence number, zero-padded so names sort in run order, and the run id.
 * Reports are ordered and pruned by this number, never by a clock (a clock set back or ahead would otherwise make
 * the newest report look oldest and be pruned first).
 */
const REPORT_NAME_RE = /^(\d{12})-[0-9a-f]{8}\.json$/;

/** A saved report file and its sequence number; files named by the old wall-clock scheme count as sequence 0. */
interface ReportFile { seq: number; file: string }

async function reportFiles(layout: Layout): Promise<ReportFile[]> {
  const names = await fsp.readdir(layout.runsDir).catch((err: unknown) => {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  });
  const files = names.filter((f) => f.endsWith('.json') && !f.startsWith('.')).map((file) => ({ seq: Number(REPORT_NAME_RE.exec(file)?.[1] ?? 0), file }));
  // Oldest first; among old wall-clock names (sequence 0) their name is all there is to order them by.
  return files.sort((a, b) => a.seq - b.seq || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** Saves the report as last-run.json and in runs/ under the next sequence number, keeping the newest DEFAULTS.reportsKept. */
export async function saveReport(layout: Layout, report: RunReport): Promise<void> {
  await fsp.mkdir(layout.runsDir, { recursive: true });
  const before = await reportFiles(layout);
  report.seq = (before.at(-1)?.seq ?? 0) + 1;
  await writeJsonAtomic(path.join(layout.runsDir, `${String(report.seq).padStart(12, '0')}-${report.runId}.json`), report);
  await writeJsonAtomic(layout.lastReport, report);
  const runs = await reportFiles(layout);
  for (const old of runs.slice(0, Math.max(0, runs.length - DEFAULTS.reportsKept))) {
    await fsp.rm(path.join(layout.runsDir, old.file), { force: true });
  }
  await writeFileAtomic(layout.metricsFile, metrics(report));
}

/** A saved run report: its sequence number, its file under state/runs/, and the report (undefined if unreadable). */
export interface SavedReport { seq: number; file: string; report: RunReport | undefined }

/** The saved run reports of an install root, newest first (by sequence number, not by any clock). */
export async function listReports(layout: Layout): Promise<SavedReport[]> {
  const files = (await reportFiles(layout)).reverse();
  return Promise.all(
    files.map(async ({ seq, file }) => {
      const full = path.join(layout.runsDir, file);
      const report = await fsp.readFile(full, 'utf8').then((t) => JSON.parse(t) as RunReport).catch(() => undefined);
      return { seq, file: full, report };
    }),
  );
}

/** The report as Prometheus text format. */
export function metrics(r: RunReport): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
  };
  const end = r.finishedAt ? Date.parse(r.finishedAt) / 1000 : Date.now() / 1000;
  gauge('updates_last_run_timestamp_seconds', 'When the last run finished.', [['', end]]);
  gauge('updates_last_run_exit_code', 'Exit code of the last run.', [['', r.exitCode ?? -1]]);
  gauge('updates_last_run_duration_seconds', 'Duration of the last run.', [['', (r.durationMs ?? 0) / 1000]]);
  gauge('updates_last_run_errors', 'Errors reported by the last run.', [['', r.errors.length]]);
  const byStatus = new Map<string, number>();
  for (const u of r.updates) byStatus.set(u.status, (byStatus.get(u.status) ?? 0) + 1);
  gauge('updates_module_updates', 'Phase 1 outcomes of the last run, by status.', [...byStatus].map(([s, n]) => [`{status="${s}"}`, n]));
  gauge(
    'updates_module_run_ok',
    'Whether each module ran successfully in the last run (1) or not (0).',
    r.modules.filter((m) => m.status !== 'disabled').map((m) => [`{module="${m.module}"}`, m.status === 'ok' ? 1 : 0]),
  );
  return `${lines.join('\n')}\n`;
}
