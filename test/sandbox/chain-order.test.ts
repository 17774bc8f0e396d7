// main does not take the sandbox process's word for the order of chained jobs: a process that sends anything of a
// job before the job it follows has settled is killed, and nothing of that job reaches its broker.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { HostProcess } from '../../src/sandbox/supervisor/host-process.js';
import { FakeBroker, job } from './helpers.js';

/** A stand-in for the sandbox process's ChildProcess: it records what main sends and emits what a test says. */
class FakeChild extends EventEmitter {
  readonly sent: { t: string; id: number; after?: number }[] = [];
  readonly pid = undefined;
  readonly stdout = null;
  readonly stderr = null;
  connected = true;
  send(message: { t: string; id: number; after?: number }, callback?: (err: Error | null) => void): boolean {
    this.sent.push(message);
    callback?.(null);
    return true;
  }
}

function host(): { child: FakeChild; process: HostProcess } {
  const child = new FakeChild();
  return { child, process: new HostProcess(child as unknown as ChildProcess, undefined, { graceMs: 60_000, capMb: 512 }, silentLogger()) };
}

const CODE = 'module.exports.main = async () => ({ success: true });';

for (const early of ['started', 'request'] as const) {
  test(`a '${early}' of a chained job before the job it follows settled: the process is killed, the job's broker sees nothing`, async () => {
    const { child, process: hp } = host();
    const first = hp.submit(job('first', CODE));
    assert.ok(hp.canFollow(first.id));
    const nextBroker = new FakeBroker();
    const next = hp.submit(job('next', CODE, { broker: nextBroker }), first.id);
    assert.deepEqual(child.sent.map((m) => [m.id, m.after]), [[first.id, undefined], [next.id, first.id]], 'sent chained');
    assert.equal(hp.canFollow(first.id), false, 'one follower per job');
    child.emit('message', early === 'started' ? { t: 'started', id: next.id } : { t: 'request', id: next.id, raw: { v: 1, id: 1, method: 'log', params: { level: 'info', message: 'early' } } });
    assert.equal(hp.alive, false, 'no longer trusted');
    child.emit('close', null, 'SIGKILL');
    const [a, b] = await Promise.all([first.result, next.result]);
    assert.equal(a.outcome.error?.code, 'E_SANDBOX_LOST');
    assert.match(a.outcome.error?.message ?? '', /before the module before it had settled/);
    assert.equal(b.unstarted, true, 'nothing of it reached main: it may run again elsewhere');
    assert.deepEqual(nextBroker.seen, []);
    assert.equal(nextBroker.closeCount, 0, 'its broker stays open for that next attempt');
  });
}

test('a chained job\'s requests that come once the job before settled go to its broker; a cancel after that is not believed', async () => {
  const { child, process: hp } = host();
  const first = hp.submit(job('first', CODE));
  const nextBroker = new FakeBroker();
  const next = hp.submit(job('next', CODE, { broker: nextBroker }), first.id);
  child.emit('message', { t: 'settled', id: first.id, ok: true, reply: { ok: true, result: { success: true } } });
  assert.equal((await first.result).outcome.status, 'ok');
  child.emit('message', { t: 'started', id: next.id });
  child.emit('message', { t: 'request', id: next.id, raw: { v: 1, id: 1, method: 'log', params: { level: 'info', message: 'hello' } } });
  child.emit('message', { t: 'settled', id: next.id, ok: false, error: { message: 'cancelled' }, aborted: false, cancelled: true });
  const b = await next.result;
  assert.equal(b.unstarted, false, 'it had started: it is never run again');
  assert.equal(b.outcome.status, 'failed');
  assert.deepEqual(nextBroker.logMessages(), ['hello']);
  assert.equal(hp.alive, true);
  hp.kill('test over');
  child.emit('close', null, 'SIGKILL');
  await hp.closed;
});

test('a chained job that is done while its requests wait for the job before it: they reach its broker before it ends', async () => {
  // The process answers log lines itself, so a module can be done before main has handled them; here the job
  // before still has a request with its broker when everything of the next one arrives, its end included.
  const { child, process: hp } = host();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const firstBroker = new FakeBroker(undefined, () => held);
  const first = hp.submit(job('first', CODE, { broker: firstBroker }));
  const nextBroker = new FakeBroker();
  const next = hp.submit(job('next', CODE, { broker: nextBroker }), first.id);
  child.emit('message', { t: 'started', id: first.id });
  child.emit('message', { t: 'request', id: first.id, raw: { v: 1, id: 1, method: 'log', params: { level: 'info', message: 'first' } } });
  child.emit('message', { t: 'settled', id: first.id, ok: true, reply: { ok: true, result: { success: true } } });
  child.emit('message', { t: 'started', id: next.id });
  child.emit('message', { t: 'request', id: next.id, raw: { v: 1, id: 1, method: 'log', params: { level: 'info', message: 'next' } } });
  child.emit('message', { t: 'settled', id: next.id, ok: true, reply: { ok: true, result: { success: true } } });
  assert.equal(nextBroker.seen.length, 0, 'held while the job before has a request in hand');
  release();
  const [a, b] = await Promise.all([first.result, next.result]);
  assert.equal(a.outcome.status, 'ok');
  assert.equal(b.outcome.status, 'ok');
  assert.deepEqual(nextBroker.seen.map((s) => [s.raw.params['message'], s.afterClose]), [['next', false]], 'handled while its run was open');
  assert.equal(hp.alive, true);
  hp.kill('test over');
  child.emit('close', null, 'SIGKILL');
  await hp.closed;
});
