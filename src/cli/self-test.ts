/**
 * `updates self-test`: proves that this orchestrator build works end to end before it is made current:
 * a small module is bundled, run in the sandbox, and reaches the broker through the SDK.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ModuleBroker, recordingBackend } from '../broker/broker.js';
import { silentLogger } from '../core/logger.js';
import { parseModuleManifest } from '../core/manifest.js';
import { orchestratorVersion } from '../orchestrator/version.js';
import { bundleModule } from '../sandbox/build/bundle.js';
import { SandboxPool } from '../sandbox/supervisor/pool.js';
import { DEFAULTS } from '../core/defaults.js';

const MODULE = `import { store, log } from 'updates-orchestrator/sdk';
export async function main() {
  await store.set('self-test', 1);
  await log.debug('self-test module ran');
  return { success: (await store.get('self-test')) === 1, message: 'self-test' };
}
`;

/** Returns 0 and prints "self-test ok <version>" when every part works; otherwise prints why and returns 1. */
export async function selfTest(): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'updates-self-test-'));
  const pool = new SandboxPool({ size: 1, logger: silentLogger() });
  try {
    const manifest = parseModuleManifest(JSON.stringify({ metadata: { schema_version: '1.0.0' } }), 'selftest');
    if (!manifest.ok) throw new Error(`manifest validation: ${manifest.reason}`);
    await writeFile(path.join(dir, 'index.ts'), MODULE);
    const code = await bundleModule(dir, 'selftest');
    const broker = new ModuleBroker({
      module: 'selftest',
      capabilities: manifest.manifest.capabilities,
      root: '/',
      stateDir: path.join(dir, 'state'),
      logger: silentLogger(),
      services: recordingBackend(path.join(dir, 'services.log')),
    });
    const outcome = await pool.run({ module: 'selftest', code, configuration: {}, args: [], timeoutMs: DEFAULTS.selfTestModuleTimeoutMs, maxMemoryMb: 128, broker });
    if (outcome.status !== 'ok') throw new Error(`sandbox run: ${outcome.status} ${outcome.error?.message ?? ''}`);
    process.stdout.write(`self-test ok ${orchestratorVersion()}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`self-test failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await pool.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}
