/**
 * `updates run` and `updates check` (and `--legacy`): sync, install, run the enabled modules.
 */
import { EXIT } from '../../core/exit-codes.js';
import type { Logger } from '../../core/logger.js';
import { underRoot } from '../../orchestrator/layout.js';
import type { LegacyRunOptions } from '../../orchestrator/legacy/index.js';
import { notifier } from '../../orchestrator/notify.js';
import { createPhase2 } from '../../orchestrator/phase2.js';
import { performRun } from '../../orchestrator/run.js';
import type { RunConfig } from '../../orchestrator/run.js';
import { orchestratorVersion } from '../../orchestrator/version.js';
import { bundleModule } from '../../sandbox/build/bundle.js';
import type { CliOptions } from '../args.js';
import type { Command } from '../command.js';
import { readConfigFile, requireRepoUrl, resolveSettings } from '../settings.js';
import { formatSummary } from '../summary.js';
import type { Settings } from '../settings.js';

export const command: Command = async ({ argv, opts, installRoot, logger }) => {
  const settings = await resolveSettings(await readConfigFile(installRoot, opts.configFile, opts.root), opts.flags);
  if (opts.legacy) {
    const { runLegacy } = await import('../../orchestrator/legacy/index.js');
    const legacy = await runLegacy(legacyConfig(opts, settings, installRoot, await logger()));
    if (opts.json) process.stdout.write(`${JSON.stringify(legacy, null, 2)}\n`);
    return legacy.exitCode ?? EXIT.FAILED;
  }
  const repoUrl = requireRepoUrl(settings);
  const report = await performRun({ ...runConfig(opts, settings, repoUrl, installRoot, await logger()), reexecArgv: argv, handleSignals: true });
  // After a self-update the new release finished the run and printed its own report.
  if (opts.json && report.handedOver !== true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (report.handedOver !== true && process.stdout.isTTY) process.stdout.write(formatSummary(report));
  return report.exitCode ?? EXIT.FAILED;
};

/** The sandbox settings Phase 2 and legacy mode share. */
function sandboxSettings(s: Settings, opts: CliOptions) {
  return {
    services: s.services,
    // the orchestrator's own files outside the install root: no module grant reaches them
    ownFiles: [
      ...(s.localRepo !== undefined ? [underRoot(opts.root, s.localRepo)] : []),
      ...(s.allowedSigners !== undefined ? [s.allowedSigners] : []),
      ...(opts.configFile !== undefined ? [opts.configFile] : []),
    ],
    ...(s.sandboxUser !== undefined ? { sandboxUser: s.sandboxUser } : {}),
    ...(s.sandboxMemoryMb !== undefined ? { sandboxMemoryMb: s.sandboxMemoryMb } : {}),
    ...(s.poolSize !== undefined ? { poolSize: s.poolSize } : {}),
    ...(s.moduleTimeoutSeconds !== undefined ? { moduleTimeoutSeconds: s.moduleTimeoutSeconds } : {}),
  };
}

/** What `updates --legacy` runs with: the same sandbox settings as Phase 2. */
function legacyConfig(opts: CliOptions, s: Settings, installRoot: string, logger: Logger): LegacyRunOptions {
  return { installRoot, root: opts.root, wait: opts.wait, orchestratorVersion: orchestratorVersion(), logger, ...sandboxSettings(s, opts) };
}

function runConfig(opts: CliOptions, s: Settings, repoUrl: string, installRoot: string, logger: Logger): RunConfig {
  return {
    repoUrl,
    branch: s.branch,
    installRoot,
    ...(s.localRepo !== undefined ? { repoDir: underRoot(opts.root, s.localRepo) } : {}),
    root: opts.root,
    checkOnly: opts.checkOnly,
    wait: opts.wait,
    orchestratorVersion: orchestratorVersion(),
    build: bundleModule,
    logger,
    trust: { allowHistoryRewrite: s.allowHistoryRewrite, ...(s.requireSigned && s.allowedSigners ? { allowedSigners: s.allowedSigners } : {}) },
    ...(s.maxFetchMb !== undefined ? { maxFetchBytes: Math.round(s.maxFetchMb * 2 ** 20) } : {}),
    ...(s.fetchTimeoutSeconds !== undefined ? { fetchTimeoutMs: Math.round(s.fetchTimeoutSeconds * 1000) } : {}),
    ...(s.metricsFile !== undefined ? { metricsFile: underRoot(opts.root, s.metricsFile) } : {}),
    ...(s.notifyCommand !== undefined ? { notify: notifier({ argv: s.notifyCommand, on: s.notifyOn ?? 'failure' }) } : {}),
    ...(!opts.checkOnly || opts.check ? { phase2: createPhase2(sandboxSettings(s, opts)) } : {}),
    ...(opts.check ? { planModules: { diff: opts.diff } } : {}),
  };
}
