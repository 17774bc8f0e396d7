// The sandbox pool with real piscina workers: results, failures, the SDK channel, concurrency and late calls.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { SandboxPool } from '../../src/sandbox/supervisor/pool.js';
import { bundleFixture, FakeBroker, job } from './helpers.js';

const pool = new SandboxPool({ size: 2, logger: silentLogger() });
after(() => pool.destroy());

test('an ok module reaches the broker through the SDK and its result comes back', async () => {
  const j = job('ok', await bundleFixture('ok'), { configuration: { who: 'world' }, args: ['a', 'b'] });
  const outcome = await pool.run(j);
  assert.equal(outcome.status, 'ok');
  assert.deepEqual(outcome.result, { success: true, changed: true, message: 'ran with a,b' });
  assert.equal(outcome.error, undefined);
  assert.deepEqual(
    j.broker.seen.map((s) => s.raw),
    [
      { v: 1, id: 1, method: 'log', params: { level: 'info', message: 'hello world' } },
      { v: 1, id: 2, method: 'store.set', params: { key: 'last-args', value: ['a', 'b'] } },
    ],
  );
  assert.equal(j.broker.closeCount, 1, 'the broker is closed once the run settles');
});

test('a thrown Error is a failed module with its message', async () => {
  const outcome = await pool.run(job('throws-error', await bundleFixture('throws-error')));
  assert.equal(outcome.status, 'failed');
  assert.equal(outcome.error?.code, 'E_MODULE_FAILED');
  assert.match(outcome.error?.message ?? '', /module "throws-error" failed: Error: the disk is on fire/);
});

test('a thrown string is a failed module, never a success', async () => {
  const outcome = await pool.run(job('throws-string', await bundleFixture('throws-string')));
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.error?.message ?? '', /threw a non-Error value \(string\): "just a string"/);
});

test('results that are not a valid result object fail with E_MODULE_RESULT', async () => {
  const cases: [string, RegExp][] = [
    ['returns-number', /returned a number; main\(\) must resolve to/],
    ['bad-result', /returned a value that cannot be serialized \(Error: gotcha\)/],
    ['big-result', /returned a result larger than 64 KiB/],
  ];
  for (const [name, pattern] of cases) {
    const outcome = await pool.run(job(name, await bundleFixture(name)));
    assert.equal(outcome.status, 'failed', name);
    assert.equal(outcome.error?.code, 'E_MODULE_RESULT', name);
    assert.match(outcome.error?.message ?? '', pattern, name);
  }
  const missing = await pool.run(job('no-success', 'module.exports.main = async () => ({ changed: true });'));
  assert.equal(missing.error?.code, 'E_MODULE_RESULT');
  assert.match(missing.error?.message ?? '', /success/);
});

test('success: false is a failed module carrying the module\'s own message', async () => {
  const outcome = await pool.run(job('returns-failure', await bundleFixture('returns-failure')));
  assert.equal(outcome.status, 'failed');
  assert.deepEqual(outcome.result, { success: false, message: 'service did not come back' });
  assert.equal(outcome.error?.code, 'E_MODULE_FAILED');
  assert.match(outcome.error?.message ?? '', /service did not come back/);
});

test('a module without main() fails and says what to export', async () => {
  const outcome = await pool.run(job('no-main', 'module.exports.start = () => 1;'));
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.error?.message ?? '', /exports no main\(\) function/);
});

test('a broker refusal rejects the SDK call with an SdkError the module can recognise', async () => {
  const broker = new FakeBroker((raw) => ({ v: 1, id: raw.id, ok: false, error: { code: 'E_UNDECLARED_PATH', message: 'no' } }));
  const outcome = await pool.run(job('sdk-error', await bundleFixture('sdk-error'), { broker }));
  assert.equal(outcome.status, 'ok', outcome.error?.message);
  assert.equal(outcome.result?.message, 'SdkError E_UNDECLARED_PATH true');
});

test('a reply with an unknown id is ignored, so the call stays pending until the deadline', async () => {
  const broker = new FakeBroker((raw) => ({ v: 1, id: raw.id + 1000, ok: true, result: null }));
  // A call the broker answers (a log line may be answered by the sandbox process itself).
  const asks = 'const { clock } = require("updates-orchestrator/sdk"); module.exports.main = async () => { await clock.now(); return { success: true }; };';
  const outcome = await pool.run(job('asks', asks, { broker, timeoutMs: 1000 }));
  assert.equal(outcome.status, 'timeout');
  assert.equal(broker.seen.length, 1);
});

test('two modules run at once and each request reaches its own run\'s broker', async () => {
  const code = await bundleFixture('echo');
  // No reply goes out until both runs have sent a request: the two really run at the same time, and their
  // requests are in flight together.
  let bothAsked: () => void = () => undefined;
  const barrier = new Promise<void>((resolve) => (bothAsked = resolve));
  const hold = (): Promise<void> => {
    if (brokers.every((b) => b.seen.length > 0)) bothAsked();
    return barrier;
  };
  const brokers = [new FakeBroker(undefined, hold), new FakeBroker(undefined, hold)];
  const outcomes = await Promise.all(
    ['alpha', 'beta'].map((who, i) => pool.run(job(`echo-${who}`, code, { args: [who], broker: brokers[i]! }))),
  );
  assert.deepEqual(outcomes.map((o) => o.status), ['ok', 'ok']);
  assert.deepEqual(brokers[0]?.logMessages(), ['alpha 0', 'alpha 1', 'alpha 2', 'alpha 3', 'alpha 4']);
  assert.deepEqual(brokers[1]?.logMessages(), ['beta 0', 'beta 1', 'beta 2', 'beta 3', 'beta 4']);
});

test('a call a module chained after main() returned is served before the run ends; setTimeout is not there to defer one', async () => {
  const j = job('late-call', await bundleFixture('late-call'));
  const outcome = await pool.run(j);
  assert.equal(outcome.status, 'ok');
  assert.match(outcome.result?.message ?? '', /^setTimeout refused/);
  assert.equal(j.broker.closeCount, 1);
  // The microtask chain's call reached the broker while the run was still open; the timer never existed.
  assert.deepEqual(j.broker.logMessages(), ['late microtask']);
  assert.ok(j.broker.seen.every((s) => !s.afterClose));
  const next = await pool.run(job('ok', await bundleFixture('ok')));
  assert.equal(next.status, 'ok', 'the worker is fine for the next module');
});

test('calls a module did not await are all answered before its outcome, for every one of 20 modules', async () => {
  const code = await bundleFixture('unawaited');
  const jobs = Array.from({ length: 20 }, (_, i) => job(`unawaited-${i}`, code, { timeoutMs: 60_000 }));
  const outcomes = await Promise.all(jobs.map((j) => pool.run(j)));
  assert.deepEqual(outcomes.map((o) => o.status), jobs.map(() => 'ok'));
  for (const j of jobs) {
    assert.deepEqual(j.broker.seen.map((s) => [s.raw.method, s.afterClose]), [['log', false], ['store.set', false]], j.module);
  }
});
