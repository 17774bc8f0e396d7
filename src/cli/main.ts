/**
 * The `updates` command: parses flags, runs the requested command, prints and exits with a documented code.
 */
import { UpdatesError, messageOf } from '../orchestrator/errors.js';
import { layoutOf, underRoot } from '../orchestrator/layout.js';
import { createLogger } from '../orchestrator/logger.js';
import { EXIT, performRun } from '../orchestrator/run.js';
import { orchestratorVersion } from '../orchestrator/version.js';
import { bundleModule } from '../sandbox/bundle.js';
import { HELP, parseCli } from './args.js';
import type { CliOptions } from './args.js';
import { createPhase2 } from '../orchestrator/phase2.js';
import { statusOf, formatStatus } from './status.js';

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
  const installRoot = underRoot(opts.root, opts.modulesPath);
  if (opts.command === 'status') {
    const status = await statusOf(layoutOf(installRoot));
    process.stdout.write(opts.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
    return EXIT.OK;
  }
  const logger = createLogger(opts.logLevel !== undefined ? { level: opts.logLevel } : {});
  try {
    const report = await performRun({
      repoUrl: opts.repoUrl,
      branch: opts.branch,
      installRoot,
      ...(opts.localRepo !== undefined ? { repoDir: underRoot(opts.root, opts.localRepo) } : {}),
      root: opts.root,
      checkOnly: opts.checkOnly,
      wait: opts.wait,
      orchestratorVersion: orchestratorVersion(),
      build: bundleModule,
      logger,
      ...(opts.checkOnly
        ? {}
        : {
            phase2: createPhase2({
              services: opts.services,
              ...(opts.poolSize !== undefined ? { poolSize: opts.poolSize } : {}),
              ...(opts.moduleTimeoutSeconds !== undefined ? { moduleTimeoutSeconds: opts.moduleTimeoutSeconds } : {}),
            }),
          }),
    });
    if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
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
