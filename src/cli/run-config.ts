/**
 * The run machinery behind `updates run` and `updates check` (and `--legacy`): loaded by commands/run.ts once it
 * has started the sandbox process, so the process starts while this loads.
 */
import { EXIT } from '../core/exit-codes.js';
import type { Logger } from '../core/logger.js';
import { underRoot } from '../orchestrator/layout.js';
import type { LegacyRunOptions } from '../orchestrator/legacy/index.js';
import { notifier } from '../orchestrator/notify.js';
import { createPhase2 } from '../orchestrator/phase2.js';
import { performRun } from '../orchestrator/run.js';
import type { RunConfig } from '../orchestrator/run.js';
import { orchestratorVersion } from '../orchestrator/version.js';
import { bundleModule } from '../sandbox/build/bundle.js';
import type { SandboxPool } from '../sandbox/supervisor/pool.js';
import type { CliOptions } from './args.js';
import { formatSummary } from './summary.js';
import type { Settings } from './settings.js';
import { runsModules, sandboxSettings } from './sandbox-settings.js';

/** `updates --legacy`: the seed's manifest.json mode. */
export async function legacyRun(opts: CliOptions, settings: Settings, installRoot: string, logger: Logger): Promise<number> {
  const { runLegacy } = await import('../orchestrator/legacy/index.js');
  const legacy = await runLegacy(legacyConfig(opts, settings, installRoot, logger));
  if (opts.json) process.stdout.write(`${JSON.stringify(legacy, null, 2)}\n`);
  return legacy.exitCode ?? EXIT.FAILED;
}

/**
 * One run (`run`, `check`, `run --check`) with the run id `runId`; `pool`: the sandbox pool commands/run.ts
 * started for it (made by poolOf with sandboxSettings), which Phase 2 takes.
 */
export async function run(argv: string[], opts: CliOptions, settings: Settings, repoUrl: string, installRoot: string, logger: Logger, runId: string, pool?: SandboxPool): Promise<number> {
  const report = await performRun({ ...runConfig(opts, settings, repoUrl, installRoot, logger, pool), runId, reexecArgv: argv, handleSignals: true });
  // After a self-update the new release finished the run and printed its own report.
  if (opts.json && report.handedOver !== true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (report.handedOver !== true && process.stdout.isTTY) process.stdout.write(formatSummary(report));
  return report.exitCode ?? EXIT.FAILED;
}

/** What `updates --legacy` runs with: the same sandbox settings as Phase 2. */
function legacyConfig(opts: CliOptions, s: Settings, installRoot: string, logger: Logger): LegacyRunOptions {
  return { installRoot, root: opts.root, wait: opts.wait, orchestratorVersion: orchestratorVersion(), logger, ...sandboxSettings(s, opts) };
}

function runConfig(opts: CliOptions, s: Settings, repoUrl: string, installRoot: string, logger: Logger, pool: SandboxPool | undefined): RunConfig {
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
    ...(runsModules(opts) ? { phase2: createPhase2(sandboxSettings(s, opts), pool) } : {}),
    ...(opts.check ? { planModules: { diff: opts.diff } } : {}),
  };
}
