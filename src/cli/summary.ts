/**
 * What a run prints on a terminal (stdout is a TTY and --json is not given): the recap, like Ansible's, then
 * one line per module that did not simply run. Nothing is printed otherwise, so cron mails only on output.
 */
import type { PlannedChange } from '../broker/planner.js';
import { formatRecap, recapOf } from '../orchestrator/recap.js';
import type { RunReport } from '../orchestrator/report.js';

export function formatSummary(r: RunReport): string {
  const lines = [`${r.mode === 'check' ? 'check' : 'run'} ${r.runId}: exit ${r.exitCode ?? '?'} in ${((r.durationMs ?? 0) / 1000).toFixed(1)} s  ${formatRecap(recapOf(r))}`];
  for (const u of r.updates) lines.push(`  ${u.module} ${u.from ?? '(new)'} → ${u.to ?? '?'}: ${u.status}${u.message !== undefined ? ` (${u.message})` : ''}`);
  for (const m of r.modules) if (m.status !== 'ok' && m.status !== 'disabled') lines.push(`  ${m.module}: ${m.status}${m.message !== undefined ? ` (${m.message})` : ''}`);
  for (const e of r.errors) if (!lines.some((l) => l.includes(e.message))) lines.push(`  error: ${e.message}`);
  const planned = r.modules.filter((m) => m.planned !== undefined);
  if (planned.length > 0) {
    lines.push('planned changes (check mode: nothing was changed):');
    for (const m of planned) lines.push(...formatPlanned(m.planned ?? [], m.plannedDropped ?? 0, `  ${m.module}`));
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A module's planned changes, one line each under `heading` ("would change (3 lines)", "would restart"), each
 * file's diff indented below it; unchanged writes are counted, not listed.
 */
export function formatPlanned(changes: readonly PlannedChange[], dropped: number, heading: string): string[] {
  const shown = changes.filter((c) => c.summary !== 'unchanged');
  const same = changes.length - shown.length;
  const tail = [same > 0 ? `${same} unchanged` : '', dropped > 0 ? `${dropped} more not listed` : ''].filter((x) => x !== '').join(', ');
  const lines = [`${heading}: ${shown.length === 0 ? 'no changes' : `${shown.length} change${shown.length === 1 ? '' : 's'}`}${tail !== '' ? ` (${tail})` : ''}`];
  for (const c of shown) {
    lines.push(`    ${c.method} ${c.target}: ${c.summary}`);
    if (c.diff !== undefined) for (const l of c.diff.replace(/\n$/, '').split('\n')) lines.push(`      ${l}`);
  }
  return lines;
}
