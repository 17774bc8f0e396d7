/**
 * Runs one orchestrator run and kills its own process with SIGKILL when it reaches a given step:
 *   node --import tsx test/helpers/crash-runner.ts <installRoot> <url> <step> <module> [<root for Phase 2>]
 * With the fifth argument Phase 2 runs too (module paths mapped under that root). Used by the crash tests:
 * SIGKILL cannot be caught, so nothing gets a chance to tidy up.
 */
import { silentLogger } from '../../src/core/logger.js';
import { createPhase2 } from '../../src/orchestrator/phase2.js';
import { performRun } from '../../src/orchestrator/run.js';
import { orchestratorVersion } from '../../src/orchestrator/version.js';
import { bundleModule } from '../../src/sandbox/build/bundle.js';

const [installRoot = '', url = '', step = '', module = '', phase2Root] = process.argv.slice(2);
const report = await performRun({
  repoUrl: url,
  branch: 'main',
  installRoot,
  root: phase2Root ?? '/',
  ...(phase2Root !== undefined ? { phase2: createPhase2({ services: 'record' }) } : {}),
  checkOnly: false,
  wait: false,
  orchestratorVersion: orchestratorVersion(),
  build: bundleModule,
  logger: silentLogger(),
  hook: (s, m) => {
    if (s === step && (module === '*' || m === module)) process.kill(process.pid, 'SIGKILL');
  },
});
process.stdout.write(`${JSON.stringify({ exitCode: report.exitCode, reachedEnd: true })}\n`);
