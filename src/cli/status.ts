/**
 * `updates status`: per module the live and previous versions, whether it is held and why, its last outcome;
 * the orchestrator release (and one on trial); the last run's recap.
 */
import { promises as fsp } from 'node:fs';
import { readHolds } from '../orchestrator/holds.js';
import type { Holds } from '../orchestrator/holds.js';
import { readInstalled, readPrevious } from '../orchestrator/installed.js';
import { readJournal } from '../orchestrator/journal.js';
import type { Layout } from '../orchestrator/layout.js';
import { recapOf } from '../orchestrator/recap.js';
import type { Recap } from '../orchestrator/recap.js';
import { currentRelease, readReleaseState } from '../orchestrator/releases.js';
import type { RunReport } from '../orchestrator/report.js';
import { orchestratorVersion } from '../orchestrator/version.js';

/** operator: `updates hold`; failed: a version that failed its first run; rolled-back: `updates rollback`. */
export type HeldStatus =
  | { kind: 'operator'; reason: string; by: string; at: string }
  | { kind: 'failed' | 'rolled-back'; version: string; reason: string; at: string };

export interface ModuleStatus {
  module: string;
  version: string | null;
  previous: string | null;
  enabled: boolean | null;
  priority: number | null;
  problem?: string;
  held: HeldStatus[];
  /** The last run's outcome for this module: its run status (or install status when it did not run) and message. */
  lastRun: { status: string; message?: string } | null;
}

export interface Status {
  installRoot: string;
  /** The release the launcher starts (null: the launcher's own package), one on trial, one held back. */
  orchestrator: { version: string; release: string | null; pending: string | null; held: string | null };
  modules: ModuleStatus[];
  lastRun: { startedAt: string; durationMs: number | null; exitCode: number | null; commit: string | null; recap: Recap; errors: string[] } | null;
}

async function readLastReport(layout: Layout): Promise<RunReport | undefined> {
  try {
    return JSON.parse(await fsp.readFile(layout.lastReport, 'utf8')) as RunReport;
  } catch {
    return undefined;
  }
}

function lastOutcome(r: RunReport | undefined, name: string): ModuleStatus['lastRun'] {
  if (r === undefined) return null;
  const ran = r.modules.filter((m) => m.module === name);
  const m = ran.find((x) => x.status !== 'ok') ?? ran[0];
  if (m !== undefined) return { status: m.status, ...(m.message !== undefined ? { message: m.message } : {}) };
  const u = r.updates.find((x) => x.module === name);
  return u !== undefined ? { status: u.status, ...(u.message !== undefined ? { message: u.message } : {}) } : null;
}

export async function statusOf(layout: Layout): Promise<Status> {
  const installed = await readInstalled(layout);
  const last = await readLastReport(layout);
  const holds: Holds = await readHolds(layout);
  const journal = await readJournal(layout.journal);
  const releases = await readReleaseState(layout.root);
  const modules: ModuleStatus[] = [];
  for (const m of installed) {
    const held: HeldStatus[] = [];
    const h = holds[m.name];
    if (h !== undefined) held.push({ kind: 'operator', reason: h.reason, by: h.by, at: h.at });
    const j = journal.held[m.name];
    if (j !== undefined) held.push({ kind: j.by !== undefined ? 'rolled-back' : 'failed', version: j.version, reason: j.reason, at: j.at });
    modules.push({
      module: m.name,
      version: m.version ?? null,
      previous: (await readPrevious(layout, m.name))?.version ?? null,
      enabled: m.manifest?.metadata.enabled ?? null,
      priority: m.manifest?.metadata.priority ?? null,
      ...(m.problem !== undefined ? { problem: m.problem } : {}),
      held,
      lastRun: lastOutcome(last, m.name),
    });
  }
  return {
    installRoot: layout.root,
    orchestrator: {
      version: orchestratorVersion(),
      release: (await currentRelease(layout.root)) ?? null,
      pending: releases.pending?.version ?? null,
      held: releases.held ? `${releases.held.version} (${releases.held.reason})` : null,
    },
    modules,
    lastRun: last === undefined ? null : {
      startedAt: last.startedAt,
      durationMs: last.durationMs ?? null,
      exitCode: last.exitCode ?? null,
      commit: last.repository.commit ?? null,
      recap: recapOf(last),
      errors: last.errors.map((e) => e.message),
    },
  };
}
