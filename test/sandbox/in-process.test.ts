// In-process isolation (no root needed) still runs modules with layers 1-3: results, deadline, heap limit.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { SandboxPool } from '../../src/sandbox/supervisor/pool.js';
import { bundleFixture, job } from './helpers.js';

const pool = new SandboxPool({ size: 2, logger: silentLogger(), isolation: 'in-process' });
after(() => pool.destroy());

test('an ok module reaches its broker in-process', async () => {
  const j = job('ok', await bundleFixture('ok'), { configuration: { who: 'world' }, timeoutMs: 30_000 });
  const outcome = await pool.run(j);
  assert.equal(outcome.status, 'ok', outcome.error?.message);
  assert.deepEqual(j.broker.logMessages(), ['hello world']);
});

test('in-process, a spin times out and a heap bomb is "memory"; the next module runs', async () => {
  assert.equal((await pool.run(job('spin', await bundleFixture('spin'), { timeoutMs: 1000 }))).status, 'timeout');
  assert.equal((await pool.run(job('heap-bomb', await bundleFixture('heap-bomb'), { maxMemoryMb: 64, timeoutMs: 60_000 }))).status, 'memory');
  assert.equal((await pool.run(job('ok', await bundleFixture('ok'), { timeoutMs: 30_000 }))).status, 'ok');
});
