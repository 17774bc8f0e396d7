// Jobs started after another (SandboxPool.start with `after`), with a real sandbox process: the process gets them
// ahead, yet none starts before the one it follows has settled, and one that could not start runs again or fails.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { SandboxPool } from '../../src/sandbox/supervisor/pool.js';
import type { JobHandle } from '../../src/sandbox/supervisor/pool.js';
import { FakeBroker, job } from './helpers.js';
import { sandboxHosts } from './proc.js';

/** A module whose first act is an SDK request. */
// clock.now(), not a log line: the worker answers a log line itself, and this request must wait for the broker.
const ASKS = 'const { clock } = require("updates-orchestrator/sdk"); module.exports.main = async () => { await clock.now(); return { success: true }; };';

const pools: SandboxPool[] = [];
after(() => Promise.all(pools.map((p) => p.destroy())));

function processPool(): SandboxPool {
  const pool = new SandboxPool({ size: 2, logger: silentLogger(), isolation: 'process' });
  pools.push(pool);
  return pool;
}

/** A broker that, on the first request, calls `onFirst` and holds its answer until the returned promise resolves. */
function holdingBroker(onFirst: () => Promise<void> | void): FakeBroker {
  let first = true;
  return new FakeBroker(undefined, async () => {
    if (!first) return;
    first = false;
    await onFirst();
  });
}

test('a chain of jobs runs strictly in order: each one\'s first request comes after the last answer of the one before', async () => {
  const pool = processPool();
  const events: string[] = [];
  const brokers = Array.from({ length: 8 }, (_, i) => {
    const broker = new FakeBroker((raw) => {
      events.push(`answer ${i}`);
      return { v: 1, id: raw.id, ok: true, result: null };
    });
    const handle = broker.handle.bind(broker);
    broker.handle = (raw) => {
      events.push(`request ${i}`);
      return handle(raw);
    };
    return broker;
  });
  const handles: JobHandle[] = [];
  brokers.forEach((broker, i) => handles.push(pool.start(job(`m${i}`, ASKS, { broker }), handles[i - 1])));
  const outcomes = await Promise.all(handles.map((h) => h.outcome));
  assert.deepEqual(outcomes.map((o) => o.status), brokers.map(() => 'ok'));
  assert.deepEqual(events, brokers.flatMap((_, i) => [`request ${i}`, `answer ${i}`]));
  await pool.destroy();
});

test('the sandbox process dies under a job: that job fails, the one queued after it runs in a fresh process', async () => {
  const pool = processPool();
  let host: number | undefined;
  const first = pool.start(job('dies', ASKS, {
    broker: holdingBroker(() => {
      const hosts = sandboxHosts();
      assert.equal(hosts.length, 1, 'this pool\'s process only');
      host = hosts[0];
      process.kill(Number(host), 'SIGKILL');
      // Never answered: the process is gone.
      return new Promise<void>(() => undefined);
    }),
  }));
  const nextBroker = new FakeBroker();
  const next = pool.start(job('next', ASKS, { broker: nextBroker }), first);
  const lost = await first.outcome;
  assert.equal(lost.status, 'failed');
  assert.equal(lost.error?.code, 'E_SANDBOX_LOST');
  const ran = await next.outcome;
  assert.equal(ran.status, 'ok', JSON.stringify(ran));
  assert.deepEqual(nextBroker.seen.map((s) => s.raw.method), ['clock.now']);
  assert.ok(!nextBroker.seen.some((s) => s.afterClose), 'its broker was open when it ran');
  assert.ok(!sandboxHosts().includes(host as number), 'it ran in another process');
  await pool.destroy();
});

test('destroyed while a job runs (an interrupted run): the job queued after it fails and never runs', async () => {
  const pool = processPool();
  let destroyed: Promise<void> | undefined;
  const first = pool.start(job('running', ASKS, {
    broker: holdingBroker(() => {
      destroyed = pool.destroy();
      return new Promise<void>(() => undefined);
    }),
  }));
  const nextBroker = new FakeBroker();
  const next = pool.start(job('next', ASKS, { broker: nextBroker }), first);
  assert.equal((await first.outcome).status, 'failed');
  const cancelled = await next.outcome;
  assert.equal(cancelled.status, 'failed');
  assert.match(cancelled.error?.message ?? '', /destroyed/);
  assert.deepEqual(nextBroker.seen, [], 'nothing of it ran');
  await destroyed;
});

test('a job queued after one that times out starts once that one is stopped, with its own full deadline', async () => {
  const pool = processPool();
  const hangs = 'const { log } = require("updates-orchestrator/sdk"); module.exports.main = async () => { await log.info("hang"); await new Promise(() => undefined); };';
  // The 1 s deadline is the failure under test.
  const first = pool.start(job('hangs', hangs, { timeoutMs: 1000 }));
  const nextBroker = new FakeBroker();
  const next = pool.start(job('next', ASKS, { broker: nextBroker }), first);
  assert.equal((await first.outcome).status, 'timeout');
  assert.equal((await next.outcome).status, 'ok');
  assert.deepEqual(nextBroker.seen.map((s) => s.raw.method), ['clock.now']);
  await pool.destroy();
});

test('refused jobs in a chain fail alone, and what follows each of them runs after it', async () => {
  const pool = processPool();
  // main refuses a 0 ms deadline before sending it; what follows it runs once it has settled.
  const refused = pool.start(job('refused', ASKS, { timeoutMs: 0 }));
  const afterRefused = pool.start(job('after-refused', ASKS), refused);
  const refusedBehind = pool.start(job('refused-behind', ASKS, { timeoutMs: 0 }), afterRefused);
  const lastBroker = new FakeBroker();
  const last = pool.start(job('last', ASKS, { broker: lastBroker }), refusedBehind);
  assert.match((await refused.outcome).error?.message ?? '', /refuses this job: timeoutMs/);
  assert.equal((await afterRefused.outcome).status, 'ok');
  assert.match((await refusedBehind.outcome).error?.message ?? '', /refuses this job: timeoutMs/);
  assert.equal((await last.outcome).status, 'ok');
  assert.deepEqual(lastBroker.seen.map((s) => s.raw.method), ['clock.now']);
  await pool.destroy();
});

/** A module that asks for the time, then returns `result` (success or not). */
const asksThenReturns = (result: string): string =>
  `const { clock } = require("updates-orchestrator/sdk"); module.exports.main = async () => { await clock.now(); return ${result}; };`;

test('a job that follows only a success starts right after a successful one, without waiting to be released', async () => {
  const pool = processPool();
  const first = pool.start(job('updated', asksThenReturns('{ success: true }')));
  const nextBroker = new FakeBroker();
  // Never released: only a start in the sandbox process, on the first one's success, lets it run.
  const next = pool.start(job('next', ASKS, { broker: nextBroker }), first, new Promise<void>(() => undefined));
  assert.equal((await first.outcome).status, 'ok');
  assert.equal((await next.outcome).status, 'ok');
  assert.deepEqual(nextBroker.seen.map((s) => s.raw.method), ['clock.now']);
  await pool.destroy();
});

for (const [what, result] of [['returns success: false', '{ success: false, message: "no" }'], ['throws', '(() => { throw new Error("broken"); })()']] as const) {
  test(`a job that follows only a success, after one that ${what}, starts only once released`, async () => {
    const pool = processPool();
    const first = pool.start(job('updated', asksThenReturns(result)));
    const nextBroker = new FakeBroker();
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const next = pool.start(job('next', ASKS, { broker: nextBroker }), first, released);
    let nextDone = false;
    void next.outcome.then(() => (nextDone = true));
    assert.equal((await first.outcome).status, 'failed');
    // The process answers in order: once a later job has settled, it has dealt with `next` (cancelled it).
    assert.equal((await pool.start(job('later', ASKS)).outcome).status, 'ok');
    assert.equal(nextDone, false, 'it waits to be released');
    assert.equal(nextBroker.seen.length, 0, 'nothing of it ran');
    release();
    assert.equal((await next.outcome).status, 'ok');
    assert.deepEqual(nextBroker.seen.map((s) => s.raw.method), ['clock.now']);
    await pool.destroy();
  });
}
