// Off-heap memory against process isolation: an ArrayBuffer bomb must not reach the orchestrator's own memory.
import { rlimitDataUsable } from '../../src/sandbox/supervisor/spawn-host.js';
import assert from 'node:assert/strict';
import { rmdir } from 'node:fs/promises';
import { after, test } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { createMemoryCgroup } from '../../src/sandbox/supervisor/cgroup.js';
import { SandboxPool } from '../../src/sandbox/supervisor/pool.js';
import type { SandboxPoolOptions } from '../../src/sandbox/supervisor/pool.js';
import { job } from './helpers.js';
import { sandboxHosts } from './proc.js';

const OK = 'module.exports.main = async () => ({ success: true, message: "fine" });';
const NEVER = 'module.exports.main = () => new Promise(() => {});';
/** 64 MiB ArrayBuffers, each filled so its pages are committed, kept forever: no V8 heap limit counts them. */
const OFF_HEAP_BOMB =
  'module.exports.main = async () => { const keep = []; for (;;) { const b = new ArrayBuffer(64 * 2 ** 20); new Uint8Array(b).fill(1); keep.push(b); } };';
/** A memory figure, not a time: the bomb reaches 384-512 MB, so a growth under this did not happen in this process. */
const MAX_MAIN_GROWTH = 200 * 2 ** 20;

const pools: SandboxPool[] = [];
after(() => Promise.all(pools.map((p) => p.destroy())));

function processPool(options: Partial<SandboxPoolOptions>): SandboxPool {
  const pool = new SandboxPool({ size: 2, logger: silentLogger(), isolation: 'process', ...options });
  pools.push(pool);
  return pool;
}

/** Whether this machine lets root make a memory cgroup (the test of that cap needs one). */
async function cgroupsWritable(): Promise<string | undefined> {
  try {
    const cgroup = await createMemoryCgroup(`updates-sandbox-probe-${process.pid}`, 64);
    await rmdir(cgroup.dir);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

test('an off-heap bomb fails its module under RLIMIT_DATA; main does not grow and the next module runs', {
  skip: rlimitDataUsable() ? false : `RLIMIT_DATA cannot cap Node ${process.versions.node} (workers cannot reserve their code range under it); the cgroup test below covers the cap there`,
}, async () => {
  const pool = processPool({ memoryLimitMb: 512 });
  assert.equal((await pool.run(job('ok', OK))).status, 'ok');
  const before = process.memoryUsage().rss;
  const outcome = await pool.run(job('bomb', OFF_HEAP_BOMB, { timeoutMs: 30_000 }));
  assert.ok(outcome.status === 'failed' || outcome.status === 'memory', `status ${outcome.status}`);
  assert.ok(process.memoryUsage().rss - before < MAX_MAIN_GROWTH, 'main did not hold the bomb');
  assert.equal((await pool.run(job('ok', OK))).status, 'ok');
  await pool.destroy();
});

test('with only the cgroup cap, the bomb kills the sandbox process, is "memory", and a new process runs the next job', async (t) => {
  const why = await cgroupsWritable();
  if (why !== undefined) return t.skip(`no writable memory cgroup here: ${why}`);
  const pool = processPool({ memoryLimitMb: 384, memoryCaps: ['cgroup'] });
  assert.equal((await pool.run(job('ok', OK))).status, 'ok');
  const [first] = sandboxHosts();
  const before = process.memoryUsage().rss;
  const outcome = await pool.run(job('bomb', OFF_HEAP_BOMB, { timeoutMs: 30_000 }));
  assert.equal(outcome.status, 'memory', outcome.error?.message);
  assert.match(outcome.error?.message ?? '', /memory cap of 384 MB/);
  assert.ok(process.memoryUsage().rss - before < MAX_MAIN_GROWTH, 'main did not hold the bomb');
  assert.equal((await pool.run(job('ok', OK))).status, 'ok');
  const [second] = sandboxHosts();
  assert.ok(first !== undefined && second !== undefined && first !== second, 'the next job ran in a new process');
  await pool.destroy();
});

test('a sandbox process killed from outside fails its running job; the next job gets a new process', async () => {
  const pool = processPool({});
  assert.equal((await pool.run(job('ok', OK))).status, 'ok');
  const [host] = sandboxHosts();
  assert.ok(host !== undefined);
  const running = pool.run(job('never', NEVER, { timeoutMs: 60_000 }));
  // The job is on its way; a kill now lands while it runs (or before it started: either way it must not hang).
  await pool.run(job('ok', OK));
  process.kill(host, 'SIGKILL');
  const outcome = await running;
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.error?.message ?? '', /the sandbox process ended \(SIGKILL\)/);
  assert.equal((await pool.run(job('ok', OK))).status, 'ok');
  await pool.destroy();
});
