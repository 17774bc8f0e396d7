/**
 * A run's recap, as Ansible prints one: `ok=N changed=N failed=N held=N`, counted in modules.
 * ok: main() succeeded; changed: main() returned `changed: true`; failed: the install or the run failed;
 * held: not updated because of a hold (an operator's, or a version that failed its first run).
 */
import type { RunReport } from './report.js';

export interface Recap { ok: number; changed: number; failed: number; held: number }

export function recapOf(r: Pick<RunReport, 'updates' | 'modules'>): Recap {
  const failed = new Set<string>();
  for (const u of r.updates) if (u.status === 'failed' || u.status === 'invalid') failed.add(u.module);
  for (const m of r.modules) if (m.status !== 'ok' && m.status !== 'disabled') failed.add(m.module);
  const ok = new Set(r.modules.filter((m) => m.status === 'ok' && !failed.has(m.module)).map((m) => m.module));
  const changed = new Set(r.modules.filter((m) => m.changed === true).map((m) => m.module));
  const held = new Set(r.updates.filter((u) => u.status === 'held' || u.status === 'rolled-back').map((u) => u.module));
  return { ok: ok.size, changed: changed.size, failed: failed.size, held: held.size };
}

export function formatRecap(c: Recap): string {
  return `ok=${c.ok} changed=${c.changed} failed=${c.failed} held=${c.held}`;
}
