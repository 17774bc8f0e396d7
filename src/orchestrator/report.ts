/**
 * The run report: one JSON document per run (printed with --json, saved as state/last-run.json and in
 * state/runs/); metrics.ts derives the Prometheus metrics from it.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DEFAULTS } from '../core/defaults.js';
import type { PlainError } from '../core/errors.js';
import { writeJsonAtomic } from '../core/fs-atomic.js';
import type { Hold } from './holds.js';
import type { Layout } from './layout.js';
import { lastCheckFile } from './metrics.js';

export type UpdateStatus = 'installed' | 'updated' | 'repaired' | 'available' | 'failed' | 'invalid' | 'held' | 'rolled-back' | 'kept-newer' | 'local-only';
export type ModuleStatus = 'ok' | 'failed' | 'timeout' | 'memory' | 'exited' | 'disabled' | 'rolled-back';

/** current: nothing newer; available: newer in the repository (check mode); updated: installed and running;
 * failed: refused (did not build or pass its self-test); rolled-back: its first run failed; held: a refused version. */
export type OrchestratorStatus = 'current' | 'available' | 'updated' | 'failed' | 'rolled-back' | 'held' | 'newer-installed' | 'unknown';

/** `hold`: the operator's hold (reason, who, when) of a module reported `held` because of one. */
export interface UpdateEntry { module: string; from: string | null; to: string | null; status: UpdateStatus; message?: string; hold?: Hold }
export interface ModuleEntry { module: string; status: ModuleStatus; version?: string; durationMs?: number; changed?: boolean; message?: string; code?: string }
/** A run-level error in the report: the catalogue's plain error shape. */
export type ReportError = PlainError;

export interface RunReport {
  runId: string;
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
  /** Set when this process installed a new orchestrator and the new one finished the run (its report is the run's). */
  handedOver?: boolean;
}

/** Saves the report as last-run.json and in runs/, keeping the newest DEFAULTS.reportsKept. */
export async function saveReport(layout: Layout, report: RunReport): Promise<void> {
  await fsp.mkdir(layout.runsDir, { recursive: true });
  await writeJsonAtomic(path.join(layout.runsDir, `${report.startedAt.replace(/[:.]/g, '-')}-${report.runId}.json`), report);
  await writeJsonAtomic(layout.lastReport, report);
  const runs = (await fsp.readdir(layout.runsDir)).filter((f) => f.endsWith('.json')).sort();
  for (const old of runs.slice(0, Math.max(0, runs.length - DEFAULTS.reportsKept))) {
    await fsp.rm(path.join(layout.runsDir, old), { force: true });
  }
}

/** Saves a check's report as state/last-check.json (what the pending-updates metric counts). */
export async function saveCheckReport(layout: Layout, report: RunReport): Promise<void> {
  await writeJsonAtomic(lastCheckFile(layout), report);
}
