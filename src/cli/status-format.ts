/**
 * `updates status` for a terminal: a header (orchestrator, last run), one table row per module, then one line
 * per module with something to explain (a hold, a failure), in full.
 */
import { formatRecap } from '../orchestrator/recap.js';
import type { HeldStatus, ModuleStatus, Status } from './status.js';

/** Columns of text, padded to the widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [header, ...rows].map(line).join('\n');
}

const short = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function heldCell(held: HeldStatus[]): string {
  return held.map((h) => (h.kind === 'operator' ? `held (${h.by})` : `${h.version} ${h.kind}`)).join(', ') || '-';
}

function heldNote(m: ModuleStatus, h: HeldStatus): string {
  if (h.kind === 'operator') return `${m.module}: held by ${h.by} since ${h.at}${h.reason !== '' ? `: ${h.reason}` : ''} ("updates unhold ${m.module}" releases it)`;
  const what = h.kind === 'failed' ? 'failed its first run and was rolled back' : 'was rolled back by an operator';
  return `${m.module}: ${h.version} ${what} on ${h.at}; held until the repository carries a newer version${h.kind === 'failed' ? `. Its message: ${h.reason}` : ''}`;
}

export function formatStatus(s: Status): string {
  const o = s.orchestrator;
  const out: string[] = [
    `install root: ${s.installRoot}`,
    `orchestrator: ${o.version} (release ${o.release ?? 'of the launcher\'s own package'})${o.pending ? `, ${o.pending} on trial` : ''}${o.held ? `, held back: ${o.held}` : ''}`,
  ];
  const l = s.lastRun;
  out.push(l === null ? 'last run: none'
    : `last run: ${l.startedAt}, ${l.durationMs === null ? '?' : `${(l.durationMs / 1000).toFixed(1)} s`}, exit ${l.exitCode ?? '?'}, ${formatRecap(l.recap)}, commit ${l.commit?.slice(0, 12) ?? '-'}`);
  for (const e of l?.errors ?? []) out.push(`  error: ${e}`);
  out.push('');
  const rows = s.modules.map((m) => [
    m.module, m.version ?? '?', m.previous ?? '-', m.enabled === null ? '?' : m.enabled ? 'enabled' : 'disabled', heldCell(m.held),
    m.lastRun === null ? '-' : short(`${m.lastRun.status}${m.lastRun.message !== undefined && m.lastRun.status !== 'ok' ? `: ${m.lastRun.message}` : ''}`, 60),
  ]);
  out.push(table(['MODULE', 'LIVE', 'PREVIOUS', 'STATE', 'HELD', 'LAST RUN'], rows));
  const notes: string[] = [];
  for (const m of s.modules) {
    if (m.problem !== undefined) notes.push(`${m.module}: the installed copy is unusable: ${m.problem}`);
    for (const h of m.held) notes.push(heldNote(m, h));
    if (m.lastRun !== null && !['ok', 'disabled', 'current', 'held'].includes(m.lastRun.status) && m.lastRun.message !== undefined) notes.push(`${m.module}: last run ${m.lastRun.status}: ${m.lastRun.message}`);
  }
  if (notes.length > 0) out.push('', ...notes);
  return `${out.join('\n')}\n`;
}
