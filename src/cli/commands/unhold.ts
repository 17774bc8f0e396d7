// `updates unhold MODULE`: releases an operator's hold.
import { EXIT } from '../../core/exit-codes.js';
import { releaseHold } from '../../orchestrator/holds.js';
import { readJournal } from '../../orchestrator/journal.js';
import { layoutOf } from '../../orchestrator/layout.js';
import { writeMetrics } from '../../orchestrator/metrics.js';
import type { Command } from '../command.js';
import { metricsPath } from './context.js';

export const command: Command = async (ctx) => {
  const { opts, installRoot } = ctx;
  const layout = layoutOf(installRoot);
  const name = opts.module ?? '';
  const metrics = await metricsPath(ctx, layout);
  const change = await releaseHold(layout, name, { wait: opts.wait });
  await writeMetrics(layout, metrics, await ctx.logger());
  const failed = (await readJournal(layout.journal)).held[name];
  const still = failed !== undefined ? `; version ${failed.version} stays held until the repository carries a newer one (it was rolled back)` : '';
  if (opts.json) process.stdout.write(`${JSON.stringify({ ...change, released: change.previous !== undefined, heldVersion: failed?.version ?? null }, null, 2)}\n`);
  else process.stdout.write(change.previous !== undefined ? `${name} is no longer held: the next run updates it${still}\n` : `${name} was not held by an operator${still}\n`);
  return EXIT.OK;
};
