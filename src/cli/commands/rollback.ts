// `updates rollback MODULE`: back to the previous version, which stays live until a newer one is in the repository.
import { EXIT } from '../../core/exit-codes.js';
import { layoutOf } from '../../orchestrator/layout.js';
import { rollbackModule } from '../../orchestrator/manual-rollback.js';
import { writeMetrics } from '../../orchestrator/metrics.js';
import { orchestratorVersion } from '../../orchestrator/version.js';
import type { Command } from '../command.js';
import { metricsPath } from './context.js';

export const command: Command = async (ctx) => {
  const { opts, installRoot } = ctx;
  const layout = layoutOf(installRoot);
  const metrics = await metricsPath(ctx, layout);
  const logger = await ctx.logger();
  const r = await rollbackModule(layout, opts.module ?? '', { wait: opts.wait, orchestratorVersion: orchestratorVersion(), logger });
  await writeMetrics(layout, metrics, logger);
  if (opts.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else process.stdout.write(`${r.module}: rolled back from ${r.from ?? '?'} to ${r.to ?? '?'}; ${r.held ?? 'the version rolled back from'} is held until the repository carries a newer version\n`);
  return EXIT.OK;
};
