/**
 * What a run prints on a terminal (stdout is a TTY and --json is not given): the recap, like Ansible's, then
 * one line per module that did not simply run. Nothing is printed otherwise, so cron mails only on output.
 */
import { formatRecap, recapOf } from '../orchestrator/recap.js';
import type { RunReport } from '../orchestrator/report.js';

export function formatSummary(r: RunReport): string {
  const lines = [`${r.mode === 'check' ? 'check' : 'run'} ${r.runId}: exit ${r.exitCode ?? '?'} in ${((r.durationMs ?? 0) / 1000).toFixed(1)} s  ${formatRecap(recapOf(r))}`];
  for (const u of r.updates) lines.push(`  ${u.module} ${u.from ?? '(new)'} → ${u.to ?? '?'}: ${u.status}${u.message !== undefined ? ` (${u.message})` : ''}`);
  for (const m of r.modules) if (m.status !== 'ok' && m.status !== 'disabled') lines.push(`  ${m.module}: ${m.status}${m.message !== undefined ? ` (${m.message})` : ''}`);
  for (const e of r.errors) if (!lines.some((l) => l.includes(e.message))) lines.push(`  error: ${e.message}`);
  return `${lines.join('\n')}\n`;
}
