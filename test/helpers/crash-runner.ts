/**
 * Runs Phase 1 once and kills its own process with SIGKILL when the install reaches a given step:
 *   node --import tsx test/helpers/crash-runner.ts <installRoot> <url> <step> <module>
 * Used by the crash tests: SIGKILL cannot be caught, so nothing gets a chance to tidy up.
 */
import { silentLogger } from '../../src/orchestrator/logger.js';
import { performRun } from '../../src/orchestrator/run.js';
import { orchestratorVersion } from '../../src/orchestrator/version.js';
import { bundleModule } from '../../src/sandbox/bundle.js';

const [installRoot = '', url = '', step = '', module = ''] = process.argv.slice(2);
const report = await performRun({
  repoUrl: url,
  branch: 'main',
  installRoot,
  root: '/',
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
