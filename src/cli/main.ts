/**
 * The `updates` command: parses flags, layers settings, runs the requested command, exits with a documented code.
 */
import { UpdatesError, messageOf } from '../core/errors.js';
import { layoutOf, underRoot } from '../orchestrator/layout.js';
import { formatMigrateReport, migrateLegacy, runLegacy } from '../orchestrator/legacy/index.js';
import type { LegacyRunOptions } from '../orchestrator/legacy/index.js';
import { createLogger } from '../core/logger.js';
import type { Logger } from '../core/logger.js';
import { createPhase2 } from '../orchestrator/phase2.js';
import { EXIT } from '../core/exit-codes.js';
import { performRun } from '../orchestrator/run.js';
import type { RunConfig } from '../orchestrator/run.js';
import { orchestratorVersion } from '../orchestrator/version.js';
import { bundleModule } from '../sandbox/build/bundle.js';
import { HELP, parseCli } from './args.js';
import type { CliOptions } from './args.js';
import { readConfigFile, resolveSettings } from './settings.js';
import type { Settings } from './settings.js';
import { runModule } from './run-module.js';
import { selfTest } from './self-test.js';
import { formatStatus, statusOf } from './status.js';

/** Runs the CLI and returns the exit code (the caller exits with it). */
export async function main(argv: string[]): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseCli(argv);
  } catch (err) {
    process.stderr.write(`updates: ${messageOf(err)}\n`);
    return EXIT.USAGE;
  }
  if (opts.command === 'help') {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  if (opts.command === 'version') {
    process.stdout.write(`${orchestratorVersion()}\n`);
    return EXIT.OK;
  }
  if (opts.command === 'self-test') return selfTest();
  const installRoot = underRoot(opts.root, opts.modulesPath);
  if (opts.command === 'status') {
    const status = await statusOf(layoutOf(installRoot));
    process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
    return EXIT.OK;
  }
  const logger = createLogger(opts.logLevel !== undefined ? { level: opts.logLevel } : {});
  try {
    if (opts.command === 'run-module') {
      const r = await runModule({
        dir: opts.moduleDir ?? '.',
        args: opts.moduleArgs ?? [],
        ...(argv.some((a) => a === '--root' || a.startsWith('--root=')) ? { root: opts.root } : {}),
        ...(opts.flags.services !== undefined ? { services: opts.flags.services } : {}),
        ...(opts.flags.moduleTimeoutSeconds !== undefined ? { moduleTimeoutSeconds: opts.flags.moduleTimeoutSeconds } : {}),
        logger,
      });
      process.stdout.write(opts.json ? `${JSON.stringify(r, null, 2)}\n` : `${r.module}: ${r.status}${r.error ? ` (${r.error.message})` : ''}\nresult: ${JSON.stringify(r.result ?? null)}\nfiles under ${r.root}, stores and backups under ${r.stateDir}\n`);
      return r.status === 'ok' ? EXIT.OK : EXIT.FAILED;
    }
    if (opts.command === 'migrate-legacy') {
      const migrated = await migrateLegacy({ installRoot, wait: opts.wait, logger });
      process.stdout.write(opts.json ? `${JSON.stringify(migrated, null, 2)}\n` : formatMigrateReport(migrated));
      return migrated.exitCode;
    }
    const settings = await resolveSettings(await readConfigFile(installRoot, opts.configFile), opts.flags);
    if (opts.legacy) {
      const legacy = await runLegacy(legacyConfig(opts, settings, installRoot, logger));
      if (opts.json) process.stdout.write(`${JSON.stringify(legacy, null, 2)}\n`);
      return legacy.exitCode ?? EXIT.FAILED;
    }
    const report = await performRun({ ...runConfig(opts, settings, installRoot, logger), reexecArgv: argv, handleSignals: true });
    // After a self-update the new release finished the run and printed its own report.
    if (opts.json && report.handedOver !== true) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.exitCode ?? EXIT.FAILED;
  } catch (err) {
    if (err instanceof UpdatesError) {
      logger.error({ code: err.code }, err.message);
      if (opts.json) process.stdout.write(`${JSON.stringify({ error: err.toWire() }, null, 2)}\n`);
      if (err.code === 'E_LOCKED') return EXIT.LOCKED;
      if (err.code === 'E_USAGE' || err.code === 'E_CONFIG') return EXIT.USAGE;
    } else {
      logger.error({ err }, `unexpected error: ${messageOf(err)}`);
    }
    return EXIT.FAILED;
  } finally {
    logger.flush();
  }
}

/** What `updates --legacy` runs with: the same sandbox settings as Phase 2. */
function legacyConfig(opts: CliOptions, s: Settings, installRoot: string, logger: Logger): LegacyRunOptions {
  return {
    installRoot,
    root: opts.root,
    wait: opts.wait,
    orchestratorVersion: orchestratorVersion(),
    logger,
    services: s.services,
    ...(s.sandboxUser !== undefined ? { sandboxUser: s.sandboxUser } : {}),
    ...(s.sandboxMemoryMb !== undefined ? { sandboxMemoryMb: s.sandboxMemoryMb } : {}),
    ...(s.poolSize !== undefined ? { poolSize: s.poolSize } : {}),
    ...(s.moduleTimeoutSeconds !== undefined ? { moduleTimeoutSeconds: s.moduleTimeoutSeconds } : {}),
  };
}

function runConfig(opts: CliOptions, s: Settings, installRoot: string, logger: Logger): RunConfig {
  return {
    repoUrl: s.repoUrl,
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
    ...(opts.checkOnly
      ? {}
      : {
          phase2: createPhase2({
            services: s.services,
            ...(s.sandboxUser !== undefined ? { sandboxUser: s.sandboxUser } : {}),
            ...(s.sandboxMemoryMb !== undefined ? { sandboxMemoryMb: s.sandboxMemoryMb } : {}),
            ...(s.poolSize !== undefined ? { poolSize: s.poolSize } : {}),
            ...(s.moduleTimeoutSeconds !== undefined ? { moduleTimeoutSeconds: s.moduleTimeoutSeconds } : {}),
          }),
        }),
  };
}
