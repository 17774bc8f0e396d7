/**
 * Prometheus text-format metrics for node_exporter's textfile collector (or any collector that reads a file).
 * Written from what is on disk (the last run's and the last check's reports, what is live, holds), so every
 * command that changes one of them can rewrite the file. The file is published atomically with mode 0644 in a
 * folder made 0755, so a collector running as its own user can read it; names follow Prometheus conventions
 * (`updates_` prefix, `_seconds` units, `_info` metrics valued 1).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { mkdirTraversable, writeFileAtomic } from '../core/fs-atomic.js';
import type { Logger } from '../core/logger.js';
import { readHolds } from './holds.js';
import type { Holds } from './holds.js';
import { readInstalled, readPrevious } from './installed.js';
import type { InstalledModule } from './installed.js';
import { readJournal } from './journal.js';
import type { Journal } from './journal.js';
import type { Layout } from './layout.js';
import { recapOf } from './recap.js';
import type { RunReport } from './report.js';
import { orchestratorVersion } from './version.js';

/** Where `check` leaves its report, for the pending-updates metric. */
export const lastCheckFile = (layout: Layout): string => path.join(layout.stateDir, 'last-check.json');


async function readReport(file: string): Promise<RunReport | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as RunReport;
  } catch {
    return undefined;
  }
}

/** When the newest saved run that ended with exit code 0 finished, in seconds. */
async function lastSuccess(layout: Layout, last: RunReport | undefined): Promise<number | undefined> {
  if (last?.exitCode === 0 && last.finishedAt !== undefined) return Date.parse(last.finishedAt) / 1000;
  const files = (await fsp.readdir(layout.runsDir).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort().reverse();
  for (const f of files) {
    const r = await readReport(path.join(layout.runsDir, f));
    if (r?.exitCode === 0 && r.finishedAt !== undefined) return Date.parse(r.finishedAt) / 1000;
  }
  return undefined;
}

/** A label value, escaped as the text format requires. */
const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>): string => {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(v)}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
};

interface Family { name: string; help: string; samples: [Record<string, string>, number][] }

export function renderMetrics(families: Family[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} gauge`);
    for (const [l, v] of f.samples) out.push(`${f.name}${labels(l)} ${v}`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * What a run has just saved (its report, as a run or as a check) or still holds in memory (the journal), so the
 * metrics written beside the save need not read those files back.
 */
export interface JustSaved { kind: 'run' | 'check'; report: RunReport; journal?: Journal }

/**
 * The metric families, from the install root's state (`live`: the installed modules, when just read; `saved`:
 * the report the caller is saving at the same time, and its journal).
 */
export async function collectMetrics(layout: Layout, live?: readonly InstalledModule[], saved?: JustSaved): Promise<Family[]> {
  const last = saved?.kind === 'run' ? saved.report : await readReport(layout.lastReport);
  const check = saved?.kind === 'check' ? saved.report : await readReport(lastCheckFile(layout));
  const holds: Holds = await readHolds(layout).catch(() => ({}));
  const journal = saved?.journal ?? (await readJournal(layout.journal));
  const installed = live ?? (await readInstalled(layout));
  const f: Family[] = [];
  const one = (name: string, help: string, v: number | undefined) => {
    if (v !== undefined) f.push({ name, help, samples: [[{}, v]] });
  };
  f.push({ name: 'updates_info', help: 'The running orchestrator; the version is in the label.', samples: [[{ version: orchestratorVersion() }, 1]] });
  one('updates_last_success_timestamp_seconds', 'When the last run that ended with exit code 0 finished.', await lastSuccess(layout, last));
  if (last !== undefined) {
    const recap = recapOf(last);
    one('updates_last_run_timestamp_seconds', 'When the last run finished.', last.finishedAt ? Date.parse(last.finishedAt) / 1000 : undefined);
    one('updates_last_run_exit_code', 'Exit code of the last run.', last.exitCode ?? -1);
    one('updates_last_run_duration_seconds', 'Duration of the last run.', (last.durationMs ?? 0) / 1000);
    one('updates_last_run_errors', 'Errors reported by the last run.', last.errors.length);
    one('updates_ok_modules', 'Modules whose main() succeeded in the last run.', recap.ok);
    one('updates_changed_modules', 'Modules whose main() reported a change in the last run.', recap.changed);
    one('updates_failed_modules', 'Modules whose install or run failed in the last run.', recap.failed);
    const byStatus = new Map<string, number>();
    for (const u of last.updates) byStatus.set(u.status, (byStatus.get(u.status) ?? 0) + 1);
    f.push({ name: 'updates_module_updates', help: 'Phase 1 outcomes of the last run, by status.', samples: [...byStatus].map(([status, n]) => [{ status }, n]) });
    f.push({
      name: 'updates_module_run_ok',
      help: 'Whether each module ran successfully in the last run (1) or not (0).',
      samples: last.modules.filter((m) => m.status !== 'disabled').map((m) => [{ module: m.module }, m.status === 'ok' ? 1 : 0]),
    });
  }
  // Pending: from the newer of the last run (installs that failed) and the last check (what it found).
  const newest = [last, check].filter((r): r is RunReport => r !== undefined).sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1))[0];
  if (newest !== undefined) {
    one('updates_pending_updates', 'Modules with a newer version in the repository that is not installed yet (last run or check).',
      newest.updates.filter((u) => u.status === 'available' || u.status === 'failed').length);
  }
  const held: [Record<string, string>, number][] = [];
  for (const [m, h] of Object.entries(holds)) held.push([{ module: m, kind: 'operator', version: h.version ?? '' }, 1]);
  for (const [m, h] of Object.entries(journal.held)) held.push([{ module: m, kind: h.by !== undefined ? 'rolled-back' : 'failed', version: h.version }, 1]);
  one('updates_held_modules', 'Modules held back: by an operator, or at a version that failed its first run or was rolled back.', new Set(held.map(([l]) => l['module'])).size);
  f.push({ name: 'updates_module_held', help: 'Each hold; kind is operator (version: the one it is held at), failed or rolled-back (version: the one kept out).', samples: held });
  const info: [Record<string, string>, number][] = [];
  for (const m of installed) {
    const prev = await readPrevious(layout, m.name);
    info.push([{ module: m.name, version: m.version ?? 'unknown', previous_version: prev?.version ?? '', enabled: String(m.manifest?.metadata.enabled ?? false) }, 1]);
  }
  f.push({ name: 'updates_module_info', help: 'Each installed module; its live and previous versions are in the labels.', samples: info });
  return f;
}

/** Rewrites the metrics file at `file`; warns when a folder above it keeps other users out. Never throws. */
export async function writeMetrics(layout: Layout, file: string, logger: Logger, live?: readonly InstalledModule[], saved?: JustSaved): Promise<void> {
  try {
    // Folders made here get 0755 whatever the umask; existing ones are the administrator's.
    await mkdirTraversable(path.dirname(file));
    await writeFileAtomic(file, renderMetrics(await collectMetrics(layout, live, saved)), 0o644);
    const closed = await closedAncestor(path.dirname(file));
    if (closed !== undefined) logger.warn({ file, folder: closed }, `the metrics file ${file} is not readable by other users: ${closed} is not searchable by them (chmod o+x ${closed}, or set metrics_file elsewhere)`);
  } catch (err) {
    logger.error({ err, file }, `could not write the metrics file ${file}`);
  }
}

/** The first folder from `dir` up to / that other users cannot traverse, if any. */
async function closedAncestor(dir: string): Promise<string | undefined> {
  for (let d = dir; ; d = path.dirname(d)) {
    const st = await fsp.stat(d);
    if ((st.mode & 0o001) === 0) return d;
    if (path.dirname(d) === d) return undefined;
  }
}
