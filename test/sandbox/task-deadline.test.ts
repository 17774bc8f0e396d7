// A module task's deadline counts from when its worker starts it; the wait for a worker has its own bound.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { TaskDeadline } from '../../src/sandbox/process/task-deadline.js';
import { outcomeOfTaskRejection } from '../../src/sandbox/supervisor/outcome.js';
import { job } from './helpers.js';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

test('a slow worker start is not charged to the module: its deadline runs from started()', () => {
  const d = new TaskDeadline(1_000, 60_000);
  mock.timers.tick(30_000); // a cold worker on a busy machine
  assert.equal(d.signal.aborted, false);
  d.started();
  mock.timers.tick(999);
  assert.equal(d.signal.aborted, false, 'the module still has its whole deadline');
  mock.timers.tick(1);
  assert.equal(d.signal.aborted, true);
  assert.equal(d.reason, 'deadline');
  d.clear();
});

test('a worker that never starts the task is stopped at the start bound, as a failure of the sandbox, not a timeout', () => {
  const d = new TaskDeadline(1_000, 60_000);
  mock.timers.tick(60_000);
  assert.equal(d.reason, 'start');
  d.started();
  assert.equal(d.reason, 'start', 'a late start changes nothing');
  const outcome = outcomeOfTaskRejection(job('slow', ''), new Error('aborted'), d, 60_000);
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.error?.message ?? '', /no sandbox worker started it within 120 s/);
  d.clear();
});

test('clear() leaves a settled task alone', () => {
  const settled = new TaskDeadline(1_000, 60_000);
  settled.started();
  settled.clear();
  mock.timers.tick(120_000);
  assert.equal(settled.signal.aborted, false);
});
