// `updates history [--json] [-n N]`: past runs, newest first.
import { DEFAULTS } from '../../core/defaults.js';
import { EXIT } from '../../core/exit-codes.js';
import type { Command } from '../command.js';
import { readHistory } from '../../orchestrator/history.js';
import type { HistoryEntry } from '../../orchestrator/history.js';
import { layoutOf } from '../../orchestrator/layout.js';
import { formatRecap } from '../../orchestrator/recap.js';
import { table } from '../status-format.js';

export const command: Command = async ({ opts, installRoot }) => {
  const runs = await readHistory(layoutOf(installRoot), opts.limit ?? DEFAULTS.historyShown);
  process.stdout.write(opts.json ? `${JSON.stringify(runs, null, 2)}\n` : formatHistory(runs));
  return EXIT.OK;
};

const versions = (i: HistoryEntry['installed'][number]): string => `${i.module} ${i.from ?? '(new)'}→${i.to ?? '?'}`;

export function formatHistory(runs: HistoryEntry[]): string {
  if (runs.length === 0) return 'no runs recorded yet\n';
  const rows = runs.map((r) => [
    r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    r.durationMs === null ? '?' : `${(r.durationMs / 1000).toFixed(1)}s`,
    String(r.exitCode ?? '?'),
    formatRecap(r.recap),
    r.installed.map(versions).join(', ') || '-',
    r.failed.map((f) => `${f.module ?? 'run'} ${f.status}`).join(', ') || '-',
  ]);
  const details = runs.flatMap((r) => r.failed.filter((f) => f.message !== '').map((f) => `${r.startedAt} ${f.module ?? 'run'} ${f.status}: ${f.message}`));
  return `${table(['STARTED', 'TOOK', 'EXIT', 'RECAP', 'INSTALLED', 'FAILED'], rows)}\n${details.length > 0 ? `\n${details.join('\n')}\n` : ''}`;
};
