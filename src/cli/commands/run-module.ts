/** `updates run-module DIR [-- ARGS]`: one module from a folder, sandboxed, for module authors. */
import { EXIT } from '../../core/exit-codes.js';
import type { Command } from '../command.js';
import { runModule } from '../run-module.js';

export const command: Command = async ({ opts, logger }) => {
  const r = await runModule({
    dir: opts.moduleDir ?? '.',
    args: opts.moduleArgs ?? [],
    ...(opts.rootGiven ? { root: opts.root } : {}),
    ...(opts.flags.services !== undefined ? { services: opts.flags.services } : {}),
    ...(opts.flags.moduleTimeoutSeconds !== undefined ? { moduleTimeoutSeconds: opts.flags.moduleTimeoutSeconds } : {}),
    logger: await logger(),
  });
  process.stdout.write(
    opts.json
      ? `${JSON.stringify(r, null, 2)}\n`
      : `${r.module}: ${r.status}${r.error ? ` (${r.error.message})` : ''}\nresult: ${JSON.stringify(r.result ?? null)}\nfiles under ${r.root}, stores and backups under ${r.stateDir}\n`,
  );
  return r.status === 'ok' ? EXIT.OK : EXIT.FAILED;
};
