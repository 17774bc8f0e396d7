// A module's log line is answered in its own worker only when main's broker is bound to accept it: a well-formed
// line, within the run's request cap, with fewer requests unanswered than the in-flight cap. The line still goes to
// main, whose answer then only frees its in-flight slot.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { test } from 'node:test';
import { DEFAULTS } from '../../src/core/defaults.js';
import { isLogLine, RequestLedger } from '../../src/sandbox/worker/log-ack.js';
import { createPortCall } from '../../src/sandbox/worker/port-call.js';
import type { PortCall } from '../../src/sandbox/worker/port-call.js';

test('a well-formed log line is answered at once; main\'s answer to it settles nothing more', () => {
  const ledger = new RequestLedger();
  assert.equal(ledger.sent(1, true), true);
  assert.equal(ledger.answered(1), false);
  // Any other call waits for main, whose answer settles it.
  assert.equal(ledger.sent(2, false), false);
  assert.equal(ledger.answered(2), true);
  // An answer to nothing sent, or a second answer, settles nothing.
  assert.equal(ledger.answered(2), false);
  assert.equal(ledger.answered(99), false);
});

test('what main might refuse is left to main: malformed lines, the request cap, the in-flight cap', () => {
  for (const [level, message] of [['fatal', 'x'], ['info', 'x'.repeat(8193)], ['info', 5], [undefined, 'x'], ['info', undefined]] as const) {
    assert.equal(isLogLine(level, message), false, `${String(level)} ${typeof message}`);
  }
  assert.equal(isLogLine('warn', 'x'.repeat(8192)), true);
  // While fewer requests than the in-flight cap are unanswered, lines are answered in the worker; past it, by main.
  const waiting = new RequestLedger();
  for (let id = 1; id <= DEFAULTS.brokerMaxInFlight; id++) assert.equal(waiting.sent(id, true), true, `line ${id}`);
  assert.equal(waiting.sent(DEFAULTS.brokerMaxInFlight + 1, true), false, 'as many unanswered as main may have in flight');
  waiting.answered(1);
  waiting.answered(2);
  assert.equal(waiting.sent(DEFAULTS.brokerMaxInFlight + 2, true), true, 'room again once main answered');
  // The request cap counts every request, answered in the worker or not.
  const capped = new RequestLedger();
  for (let id = 1; id <= DEFAULTS.brokerMaxRequests; id++) {
    capped.sent(id, false);
    capped.answered(id);
  }
  assert.equal(capped.sent(DEFAULTS.brokerMaxRequests + 1, true), false, 'past the cap, main refuses it and says so');
});

/** A worker-side channel on a fresh port pair: what it sends, a wait for the first `n` messages, and its end. */
function channelUnderTest(): { port1: MessagePort; sent: unknown[]; channel: PortCall; sentAtLeast: (n: number) => Promise<void>; end: () => void } {
  const { port1, port2 } = new MessageChannel();
  const sent: unknown[] = [];
  port1.on('message', (m: unknown) => sent.push(m));
  const channel = createPortCall(port2);
  return {
    port1,
    sent,
    channel,
    sentAtLeast: async (n) => {
      while (sent.length < n) await once(port1, 'message');
    },
    end: () => {
      channel.stop();
      port1.close();
    },
  };
}

test('the worker\'s channel answers a log line without main, and still sends main the line as checked', async () => {
  const { port1, sent, channel, sentAtLeast, end } = channelUnderTest();
  // Nothing answers on port1: the log call resolves all the same, and the run can end.
  assert.equal(await channel.call('log', { level: 'info', message: 'hello' }), null);
  const now = channel.call('clock.now', {});
  let answered = false;
  void now.then(() => (answered = true));
  await sentAtLeast(2);
  assert.deepEqual(sent[0], { v: 1, id: 1, method: 'log', params: { level: 'info', message: 'hello' } });
  assert.equal(answered, false, 'a call other than log waits for main');
  // main's answer to the log line settles nothing; its answer to clock.now does.
  port1.postMessage({ v: 1, id: 1, ok: false, error: { code: 'E_DENIED', message: 'late' } });
  port1.postMessage({ v: 1, id: 2, ok: true, result: { iso: '2026-01-01T00:00:00.000Z', epochMs: 0 } });
  assert.deepEqual(await now, { iso: '2026-01-01T00:00:00.000Z', epochMs: 0 });
  await channel.settled();
  end();
});

test('a log line past the in-flight cap, or malformed, waits for main\'s answer and gets its refusal', async () => {
  const { port1, channel, sentAtLeast, end } = channelUnderTest();
  for (let i = 0; i < DEFAULTS.brokerMaxInFlight; i++) assert.equal(await channel.call('log', { level: 'debug', message: `line ${i}` }), null);
  let past: unknown = 'pending';
  const over = channel.call('log', { level: 'debug', message: 'one too many' }).then((v) => (past = v));
  const bad = channel.call('log', { level: 'fatal' as 'info', message: 'no such level' });
  await sentAtLeast(DEFAULTS.brokerMaxInFlight + 2);
  assert.equal(past, 'pending', 'with the in-flight cap reached, the line waits for main');
  port1.postMessage({ v: 1, id: DEFAULTS.brokerMaxInFlight + 1, ok: true, result: null });
  port1.postMessage({ v: 1, id: DEFAULTS.brokerMaxInFlight + 2, ok: false, error: { code: 'E_BAD_REQUEST', message: 'invalid level' } });
  await over;
  assert.equal(past, null);
  await assert.rejects(bad, /invalid level/);
  end();
});

test('a log line\'s params are read once: the line sent is the one checked', async () => {
  const { sent, channel, sentAtLeast, end } = channelUnderTest();
  let reads = 0;
  const params = { level: 'info' as const, get message(): string { reads += 1; return reads === 1 ? 'checked' : 'x'.repeat(9000); } };
  // The getter runs once for the check; the line sent is the checked copy, not the getter's second answer.
  assert.equal(await channel.call('log', params), null);
  await sentAtLeast(1);
  assert.deepEqual(sent[0], { v: 1, id: 1, method: 'log', params: { level: 'info', message: 'checked' } });
  assert.equal(reads, 1);
  end();
});
