/** `updates run-module DIR [-- ARGS]`: one module from a folder, sandboxed, for module authors. */
import { EXIT } from '../../core/exit-codes.js';
import type { Command } from '../command.js';
import { runModule } from '../run-module.js';
import { formatPlanned } from '../summary.js';

export const command: Command = async ({ opts, logger }) => {
  const r = await runModule({
    dir: opts.moduleDir ?? '.',
    args: opts.moduleArgs ?? [],
    ...(opts.rootGiven ? { root: opts.root } : {}),
    ...(opts.flags.services !== undefined ? { services: opts.flags.services } : {}),
    ...(opts.flags.moduleTimeoutSeconds !== undefined ? { moduleTimeoutSeconds: opts.flags.moduleTimeoutSeconds } : {}),
    logger: await logger(),
    ...(opts.check ? { check: { diff: opts.diff } } : {}),
  });
  if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else {
    const lines = [`${r.module}: ${r.status}${r.error ? ` (${r.error.message})` : ''}`, `result: ${JSON.stringify(r.result ?? null)}`];
    if (r.planned !== undefined) lines.push(...formatPlanned(r.planned.changes, r.planned.dropped, 'planned changes (check mode: nothing was changed)'));
    lines.push(`files under ${r.root}, stores and backups under ${r.stateDir}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return r.status === 'ok' ? EXIT.OK : EXIT.FAILED;
};
