/**
 * The run report: one JSON document per run (printed with --json, saved as state/last-run.json and in
 * state/runs/); metrics.ts derives the Prometheus metrics from it.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { PlannedChange } from '../broker/planner.js';
import { DEFAULTS } from '../core/defaults.js';
import { errnoCode } from '../core/errno.js';
import type { PlainError } from '../core/errors.js';
import { writeJsonAtomic } from '../core/fs-atomic.js';
import type { Hold } from './holds.js';
import type { Layout } from './layout.js';
import { lastCheckFile } from './metrics.js';

export type UpdateStatus = 'installed' | 'updated' | 'repaired' | 'available' | 'failed' | 'invalid' | 'held' | 'rolled-back' | 'kept-newer' | 'local-only' | 'unbumped';
export type ModuleStatus = 'ok' | 'failed' | 'timeout' | 'memory' | 'exited' | 'disabled' | 'rolled-back';

/** current: nothing newer; available: newer in the repository (check mode); updated: installed and running;
 * failed: refused (did not build or pass its self-test); rolled-back: its first run failed; held: a refused version. */
export type OrchestratorStatus = 'current' | 'available' | 'updated' | 'failed' | 'rolled-back' | 'held' | 'newer-installed' | 'unknown';

/** `unbumped`: the repository's files of the module differ from the installed version's but its version did not move.
 * `hold`: the operator's hold (reason, who, when) of a module reported `held` because of one. */
export interface UpdateEntry { module: string; from: string | null; to: string | null; status: UpdateStatus; message?: string; hold?: Hold }
export interface ModuleEntry {
  module: string;
  status: ModuleStatus;
  version?: string;
  durationMs?: number;
  changed?: boolean;
  message?: string;
  code?: string;
  /** `run --check`: what the module would have changed, in the order it asked (file writes with a diff under --diff). */
  planned?: PlannedChange[];
  /** Planned changes over the cap of one module's list (counted, not kept). */
  plannedDropped?: number;
}
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
  // Two files, each atomic and durable on its own: written side by side, their fsyncs overlap.
  await Promise.all([writeJsonAtomic(path.join(layout.runsDir, `${String(report.seq).padStart(12, '0')}-${report.runId}.json`), report), writeJsonAtomic(layout.lastReport, report)]);
  const runs = await reportFiles(layout);
  for (const old of runs.slice(0, Math.max(0, runs.length - DEFAULTS.reportsKept))) {
    await fsp.rm(path.join(layout.runsDir, old.file), { force: true });
  }
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

/** Saves a check's report as state/last-check.json (what the pending-updates metric counts). */
export async function saveCheckReport(layout: Layout, report: RunReport): Promise<void> {
  await writeJsonAtomic(lastCheckFile(layout), report);
}
