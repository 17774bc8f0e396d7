// The real module worker takes the run the host offers to follow the running one (NextTask) when the offer comes
// before that run ends: it starts it at once, on its own port, in the same piscina task. A later offer is not taken,
// nor one made only after a success (onlyIfOk) when the run did not succeed.
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { after, test } from 'node:test';
import { Piscina } from 'piscina';
import { WORKER_FILE } from '../../src/sandbox/supervisor/pool.js';
import { isTaskEnded, isTaskStarted } from '../../src/sandbox/wire/task.js';
import type { NextTask, TaskEnded, WorkerTask } from '../../src/sandbox/wire/task.js';

const pool = new Piscina<WorkerTask, number>({ filename: WORKER_FILE, minThreads: 1, maxThreads: 1, env: {} });
after(() => pool.destroy());

/** A module that asks the broker for the time (held until the test answers), then returns `tag`. */
const waitsForClock = (tag: string): string =>
  `const { clock } = require('updates-orchestrator/sdk');\nexports.main = async () => { await clock.now(); return { success: true, message: '${tag}' }; };`;
const returnsAtOnce = (tag: string): string => `exports.main = async () => ({ success: true, message: '${tag}' });`;

function taskOf(module: string, code: string, port: MessagePort): WorkerTask {
  return { module, code, configuration: {}, args: [], check: false, port };
}

/** Everything the worker posts on `port`, and its end notice once it comes. */
function watch(port: MessagePort): { seen: unknown[]; ended: Promise<TaskEnded> } {
  const seen: unknown[] = [];
  const ended = new Promise<TaskEnded>((resolve) => {
    port.on('message', (m: unknown) => {
      seen.push(m);
      if (isTaskEnded(m)) resolve(m);
    });
  });
  return { seen, ended };
}

/**
 * When the run on `port` asks for the time: offers the run 'second' (on `nextPort`; with `onlyIfOk`, to follow
 * only a success), then answers with `answer`.
 */
function offerThenAnswer(port: MessagePort, nextPort: MessagePort, answer: Record<string, unknown>, onlyIfOk = false): void {
  port.on('message', (m: unknown) => {
    const req = m as { id?: number; method?: string };
    if (req.method !== 'clock.now') return;
    const next: NextTask = { t: 'next-task', task: taskOf('second', returnsAtOnce('two'), nextPort), ...(onlyIfOk ? { onlyIfOk } : {}) };
    port.postMessage(next, [nextPort]);
    port.postMessage({ v: 1, id: req.id, ...answer });
  });
}

test('an offer made while a run is going is taken: the next run starts on the same worker, in the same task', async () => {
  const first = new MessageChannel();
  const second = new MessageChannel();
  const one = watch(first.port1);
  const two = watch(second.port1);
  // The first run's clock request is answered only after the offer is on its port.
  offerThenAnswer(first.port1, second.port2, { ok: true, result: { iso: '2026-01-01T00:00:00.000Z', epochMs: 0 } });
  const ran = pool.run(taskOf('first', waitsForClock('one'), first.port2), { transferList: [first.port2] });
  const end1 = await one.ended;
  assert.equal(end1.next, true, 'the offer came before the run ended');
  assert.deepEqual(end1.reply, { ok: true, result: { success: true, message: 'one' } });
  const end2 = await two.ended;
  assert.deepEqual(end2, { t: 'task-ended', reply: { ok: true, result: { success: true, message: 'two' } }, next: false });
  assert.equal(await ran, 2, 'both runs in one piscina task');
  // Each run's notices are on its own port: started first, ended last.
  assert.equal(isTaskStarted(two.seen[0]), true);
  assert.equal(isTaskEnded(two.seen.at(-1)), true);
  assert.equal(isTaskStarted(one.seen[0]), true);
});

test('an offer that comes after the run ended is not taken: the task ends with that run', async () => {
  const first = new MessageChannel();
  const second = new MessageChannel();
  const one = watch(first.port1);
  const ran = pool.run(taskOf('first', returnsAtOnce('one'), first.port2), { transferList: [first.port2] });
  const end1 = await one.ended;
  assert.equal(end1.next, false);
  const next: NextTask = { t: 'next-task', task: taskOf('second', returnsAtOnce('two'), second.port2) };
  first.port1.postMessage(next, [second.port2]);
  assert.equal(await ran, 1);
  second.port1.close();
});

test('a run that fails still passes on to the offered run: a module\'s failure is a worker reply', async () => {
  const first = new MessageChannel();
  const second = new MessageChannel();
  const one = watch(first.port1);
  const two = watch(second.port1);
  offerThenAnswer(first.port1, second.port2, { ok: false, error: { code: 'E_DENIED', message: 'no clock for you' } });
  const ran = pool.run(taskOf('first', waitsForClock('one'), first.port2), { transferList: [first.port2] });
  const end1 = await one.ended;
  assert.equal(end1.next, true);
  assert.equal((end1.reply as { ok: boolean }).ok, false);
  assert.equal((await two.ended).next, false);
  assert.equal(await ran, 2);
});

/** A module that asks the broker for the time (held until the test answers), then returns `result`. */
const returnsAfterClock = (result: string): string =>
  `const { clock } = require('updates-orchestrator/sdk');\nexports.main = async () => { await clock.now(); return ${result}; };`;

/** Runs 'first' (`code`) with 'second' offered to follow it only after a success: its end notice, the task's count of runs, what 'second' posted. */
async function offeredOnlyAfterSuccess(code: string): Promise<{ end1: TaskEnded; ran: number; secondSeen: unknown[] }> {
  const first = new MessageChannel();
  const second = new MessageChannel();
  const one = watch(first.port1);
  const two = watch(second.port1);
  offerThenAnswer(first.port1, second.port2, { ok: true, result: { iso: '2026-01-01T00:00:00.000Z', epochMs: 0 } }, true);
  const ran = pool.run(taskOf('first', code, first.port2), { transferList: [first.port2] });
  const result = { end1: await one.ended, ran: await ran, secondSeen: two.seen };
  second.port1.close();
  return result;
}

test('an offer to follow only a success is taken after a successful run', async () => {
  const { end1, ran } = await offeredOnlyAfterSuccess(returnsAfterClock("{ success: true, message: 'one' }"));
  assert.equal(end1.next, true);
  assert.equal(ran, 2);
});

for (const [what, result] of [
  ['returns success: false', "{ success: false, message: 'not today' }"],
  ['throws', "(() => { throw new Error('broken'); })()"],
  ['returns no valid result', "{ success: 'yes' }"],
] as const) {
  test(`an offer to follow only a success is not taken after a run that ${what}`, async () => {
    const { end1, ran, secondSeen } = await offeredOnlyAfterSuccess(returnsAfterClock(result));
    assert.equal(end1.next, false);
    assert.equal(ran, 1, 'the offered run did not start');
    assert.deepEqual(secondSeen, [], 'nothing of the offered run was posted');
  });
}
