// Hostile modules against real sandbox workers: each is reported failed and the next module still runs.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { SandboxPool } from '../../src/sandbox/supervisor/pool.js';
import type { ModuleOutcome } from '../../src/sandbox/supervisor/pool.js';
import { bundleFixture, job } from './helpers.js';

const pool = new SandboxPool({ size: 2, logger: silentLogger() });
after(() => pool.destroy());

/** Runs a well-behaved module on the same pool (and memory class) and asserts it succeeds. */
async function assertNextModuleRuns(maxMemoryMb = 128): Promise<void> {
  const outcome = await pool.run(job('ok', await bundleFixture('ok'), { maxMemoryMb }));
  assert.equal(outcome.status, 'ok', outcome.error?.message);
}

/** The lines of a probing fixture's report that say it reached something. */
function reached(outcome: ModuleOutcome): string[] {
  assert.equal(outcome.status, 'ok', outcome.error?.message);
  const lines = (outcome.result?.message ?? '').split('\n');
  assert.ok(lines.length > 1, 'the fixture ran its probes');
  return lines.filter((line) => line.includes('REACHED'));
}

test('process.exit() is out of reach: process is undefined in the compartment', async () => {
  const outcome = await pool.run(job('process-exit', await bundleFixture('process-exit')));
  assert.equal(outcome.status, 'failed');
  // SES resolves an unknown global to undefined, so the call fails with a TypeError rather than a ReferenceError.
  assert.match(outcome.error?.message ?? '', /TypeError: Cannot read properties of undefined \(reading 'exit'\)/);
  await assertNextModuleRuns();
});

test('a CPU spin is stopped at the deadline and the next module runs', async () => {
  const outcome = await pool.run(job('spin', await bundleFixture('spin'), { timeoutMs: 1500 }));
  assert.equal(outcome.status, 'timeout');
  assert.equal(outcome.error?.code, 'E_MODULE_TIMEOUT');
  assert.match(outcome.error?.message ?? '', /did not finish within 1\.5 s/);
  await assertNextModuleRuns();
});

test('a never-settling promise is stopped at the deadline', async () => {
  const outcome = await pool.run(job('never-settles', await bundleFixture('never-settles'), { timeoutMs: 1500 }));
  assert.equal(outcome.status, 'timeout');
  assert.equal(outcome.error?.code, 'E_MODULE_TIMEOUT');
});

test('a heap bomb ends at the memory limit and the next module runs', async () => {
  const outcome = await pool.run(job('heap-bomb', await bundleFixture('heap-bomb'), { maxMemoryMb: 64, timeoutMs: 20_000 }));
  assert.equal(outcome.status, 'memory');
  assert.equal(outcome.error?.code, 'E_MODULE_MEMORY');
  assert.match(outcome.error?.message ?? '', /limit 64 MB/);
  await assertNextModuleRuns(64);
});

test('a stack overflow is a failed module, not a crash', async () => {
  const outcome = await pool.run(job('stack-overflow', await bundleFixture('stack-overflow')));
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.error?.message ?? '', /RangeError: Maximum call stack size exceeded/);
  await assertNextModuleRuns();
});

test('constructor-chain escapes reach neither process nor require', async () => {
  const j = job('escapes', await bundleFixture('escapes'));
  const outcome = await pool.run(j);
  assert.deepEqual(reached(outcome), []);
  assert.match(outcome.result?.message ?? '', /require of a computed name: blocked \(require\('child_process'\) is not available/);
});

test('eval and Function evaluate inside the compartment only', async () => {
  const outcome = await pool.run(job('eval-function', await bundleFixture('eval-function')));
  assert.deepEqual(reached(outcome), []);
  assert.match(outcome.result?.message ?? '', /eval of a computed import: blocked \(.*SES_IMPORT_REJECTED/);
});

test('import() in code that bypassed the bundler is refused by the compartment', async () => {
  const code = 'module.exports.main = async () => { await import("node:fs"); return { success: true }; };';
  const outcome = await pool.run(job('raw-import', code));
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.error?.message ?? '', /import expression rejected/);
});

test('prototype pollution fails on frozen intrinsics and leaves nothing for the next module', async () => {
  const polluted = await pool.run(job('pollute', await bundleFixture('pollute')));
  assert.equal(polluted.status, 'failed');
  assert.match(polluted.error?.message ?? '', /TypeError: .*polluted/);
  const leaver = await pool.run(job('leave-global', await bundleFixture('leave-global')));
  assert.equal(leaver.status, 'ok', 'a compartment may set its own globals');
  // With a pool of 2, run the probe twice at once so both workers are looked at.
  const probe = await bundleFixture('probe-globals');
  const probes = await Promise.all([pool.run(job('probe-globals', probe)), pool.run(job('probe-globals', probe))]);
  for (const outcome of probes) assert.equal(outcome.result?.message, 'polluted=undefined leaked=undefined');
});

test('an endless promise chain left after main() returned times out that module, not the next one', async () => {
  const outcome = await pool.run(job('microtask-flood', await bundleFixture('microtask-flood'), { timeoutMs: 1500 }));
  assert.equal(outcome.status, 'timeout');
  // Both workers get a module that waits for SDK replies, which a starved worker could not deliver.
  await Promise.all([assertNextModuleRuns(), assertNextModuleRuns()]);
});
