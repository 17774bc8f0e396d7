// How a settled piscina task maps to a module outcome, for the endings a compartment cannot produce on demand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { outcomeOfRejection, outcomeOfReply } from '../../src/sandbox/supervisor/outcome.js';
import { replyIsOk } from '../../src/sandbox/wire/worker-reply.js';
import { job } from './helpers.js';

const j = job('m', '', { timeoutMs: 2500, maxMemoryMb: 96 });

test('a worker that exited (process.exit in a worker rejects its task) is "exited", never a success', () => {
  const outcome = outcomeOfRejection(j, new Error('worker exited with code: 0'), false, 1);
  assert.equal(outcome.status, 'exited');
  assert.equal(outcome.error?.code, 'E_MODULE_EXITED');
  assert.match(outcome.error?.message ?? '', /module "m" tried to end its worker \(worker exited with code: 0\)/);
});

test('the deadline wins over whatever error the abort produced', () => {
  const outcome = outcomeOfRejection(j, new Error('The task has been aborted'), true, 2500);
  assert.equal(outcome.status, 'timeout');
  assert.match(outcome.error?.message ?? '', /within 2\.5 s/);
});

test('ERR_WORKER_OUT_OF_MEMORY is "memory" with the limit', () => {
  const err = Object.assign(new Error('Worker terminated due to reaching memory limit'), { code: 'ERR_WORKER_OUT_OF_MEMORY' });
  const outcome = outcomeOfRejection(j, err, false, 1);
  assert.equal(outcome.status, 'memory');
  assert.match(outcome.error?.message ?? '', /limit 96 MB/);
});

test('any other rejection, or a malformed worker reply, is "failed"', () => {
  assert.equal(outcomeOfRejection(j, 'odd', false, 1).status, 'failed');
  const forged = outcomeOfReply(j, { ok: true, result: { success: 'yes' } }, 1);
  assert.equal(forged.status, 'failed');
  assert.equal(forged.error?.code, 'E_MODULE_RESULT');
});

test('replyIsOk (how the worker and the sandbox process judge a run another follows only on success) agrees with main\'s verdict', () => {
  const replies: unknown[] = [
    { ok: true, result: { success: true } },
    { ok: true, result: { success: true, message: 'fine', changed: true } },
    { ok: true, result: { success: false, message: 'no' } },
    { ok: true, result: { success: 'yes' } },
    { ok: true, result: { success: true, extra: 1 } },
    { ok: true, result: { success: true, message: 'x'.repeat(70_000) } },
    { ok: false, error: { code: 'E_MODULE_FAILED', message: 'threw' } },
    { ok: true },
    { ok: 'true', result: { success: true } },
    null,
    'ok',
  ];
  const verdicts = replies.map((r) => [replyIsOk(r), outcomeOfReply(j, r, 1).status === 'ok']);
  for (const [i, [worker, main]] of verdicts.entries()) assert.equal(worker, main, `reply ${i}: ${JSON.stringify(replies[i]).slice(0, 80)}`);
  assert.equal(verdicts.map(([v]) => v).filter(Boolean).length, 2, 'the two well-formed successes, and only they');
});
