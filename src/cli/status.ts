/**
 * `updates status`: installed modules, versions, enabled flags and the last run's outcome.
 */
import { promises as fsp } from 'node:fs';
import { readInstalled } from '../orchestrator/installed.js';
import type { Layout } from '../orchestrator/layout.js';
import { currentRelease, readReleaseState } from '../orchestrator/releases.js';
import type { RunReport } from '../orchestrator/report.js';

export interface Status {
  installRoot: string;
  /** The release the launcher starts (null: the launcher's own package), one on trial, one held back. */
  orchestrator: { release: string | null; pending: string | null; held: string | null };
  modules: { module: string; version: string | null; enabled: boolean | null; priority: number | null; problem?: string }[];
  lastRun: { startedAt: string; exitCode: number | null; commit: string | null } | null;
}

export async function statusOf(layout: Layout): Promise<Status> {
  const installed = await readInstalled(layout);
  let lastRun: Status['lastRun'] = null;
  try {
    const r = JSON.parse(await fsp.readFile(layout.lastReport, 'utf8')) as RunReport;
    lastRun = { startedAt: r.startedAt, exitCode: r.exitCode ?? null, commit: r.repository.commit ?? null };
  } catch {
    lastRun = null;
  }
  const releases = await readReleaseState(layout.root);
  return {
    installRoot: layout.root,
    orchestrator: {
      release: (await currentRelease(layout.root)) ?? null,
      pending: releases.pending?.version ?? null,
      held: releases.held ? `${releases.held.version} (${releases.held.reason})` : null,
    },
    modules: installed.map((m) => ({
      module: m.name,
      version: m.version ?? null,
      enabled: m.manifest?.metadata.enabled ?? null,
      priority: m.manifest?.metadata.priority ?? null,
      ...(m.problem !== undefined ? { problem: m.problem } : {}),
    })),
    lastRun,
  };
}

export function formatStatus(s: Status): string {
  const rows = s.modules.map((m) => [m.module, m.version ?? '?', m.enabled === null ? '?' : m.enabled ? 'enabled' : 'disabled', String(m.priority ?? '?'), m.problem ?? '']);
  const header = ['MODULE', 'VERSION', 'STATE', 'PRIORITY', 'PROBLEM'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const last = s.lastRun ? `last run: ${s.lastRun.startedAt}, exit ${s.lastRun.exitCode ?? '?'}, commit ${s.lastRun.commit?.slice(0, 12) ?? '-'}` : 'last run: none';
  const o = s.orchestrator;
  const release = `orchestrator release: ${o.release ?? 'the launcher\'s own'}${o.pending ? `, ${o.pending} on trial` : ''}${o.held ? `, held back: ${o.held}` : ''}`;
  return `install root: ${s.installRoot}\n${release}\n${[header, ...rows].map(line).join('\n')}\n${last}\n`;
}
