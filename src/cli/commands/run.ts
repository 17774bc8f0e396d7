/**
 * `updates run` and `updates check` (and `--legacy`): sync, install, run the enabled modules.
 *
 * The sandbox process (a second Node, its workers, their SES lockdown) is what a run with nothing to install waits
 * for longest, so it starts here, first, and the run machinery (run-config.ts: git, the installs, the broker) loads
 * while it starts. It is started before the lock, as before: a run refused by a held lock, or failing anywhere,
 * ends it (performRun through Phase 2's prestart, and the `finally` below for what fails before that).
 */
import { randomUUID } from 'node:crypto';
import { poolOf } from '../../orchestrator/phase2-pool.js';
import { defaultIsolation } from '../../sandbox/supervisor/pool.js';
import { prefetchSandboxUser } from '../../sandbox/supervisor/sandbox-user.js';
import type { Command } from '../command.js';
import { runsModules, sandboxSettings } from '../sandbox-settings.js';
import { readConfigFile, requireRepoUrl, resolveSettings } from '../settings.js';

export const command: Command = async ({ argv, opts, installRoot, logger }) => {
  const settings = await resolveSettings(await readConfigFile(installRoot, opts.configFile, opts.root), opts.flags);
  if (opts.legacy) return (await import('../run-config.js')).legacyRun(opts, settings, installRoot, await logger());
  const repoUrl = requireRepoUrl(settings);
  const runId = randomUUID().slice(0, 8);
  const sandbox = runsModules(opts) ? sandboxSettings(settings, opts) : undefined;
  // The sandbox user's lookup (a getent process, unless /etc/passwd has the user) runs while the logger loads.
  if (sandbox !== undefined && defaultIsolation() === 'process') prefetchSandboxUser(sandbox.sandboxUser);
  const log = await logger();
  const pool = sandbox !== undefined ? poolOf(sandbox, log.child({ run: runId })) : undefined;
  pool?.warm();
  try {
    // Spawned before the run machinery loads: loading it keeps this thread busy, and the steps up to the spawn
    // (the bundle folder, the user, the cgroup) each need a turn of its event loop.
    await pool?.spawned();
    const { run } = await import('../run-config.js');
    return await run(argv, opts, settings, repoUrl, installRoot, log, runId, pool);
  } finally {
    // Phase 2 took it and closed it, or the run ended before: either way nothing of it outlives the run.
    await pool?.destroy();
  }
};
