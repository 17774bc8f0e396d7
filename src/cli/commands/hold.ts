// `updates hold MODULE [--reason TEXT]` places a hold; `updates hold` lists the holds.
import { EXIT } from '../../core/exit-codes.js';
import { describeHold, placeHold, readHolds } from '../../orchestrator/holds.js';
import { layoutOf } from '../../orchestrator/layout.js';
import { writeMetrics } from '../../orchestrator/metrics.js';
import { table } from '../status-format.js';
import type { Command } from '../command.js';
import { metricsPath } from './context.js';

export const command: Command = async (ctx) => {
  const { opts, installRoot } = ctx;
  const layout = layoutOf(installRoot);
  if (opts.module === undefined) {
    const holds = await readHolds(layout);
    if (opts.json) process.stdout.write(`${JSON.stringify(holds, null, 2)}\n`);
    else if (Object.keys(holds).length === 0) process.stdout.write('no module is held\n');
    else process.stdout.write(`${table(['MODULE', 'AT VERSION', 'BY', 'SINCE', 'REASON'], Object.entries(holds).map(([m, h]) => [m, h.version ?? '?', h.by, h.at, h.reason]))}\n`);
    return EXIT.OK;
  }
  const metrics = await metricsPath(ctx, layout);
  const change = await placeHold(layout, opts.module, opts.reason ?? '', { wait: opts.wait });
  await writeMetrics(layout, metrics, await ctx.logger());
  if (opts.json) process.stdout.write(`${JSON.stringify(change, null, 2)}\n`);
  else if (change.hold !== undefined) process.stdout.write(`${change.module} ${change.hold.version ?? ''} is ${describeHold(change.hold)}${change.previous !== undefined ? ' (the previous hold was replaced)' : ''}\n`);
  return EXIT.OK;
};
