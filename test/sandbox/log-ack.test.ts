// The sandbox process answers a module's log line itself only when main's broker is bound to accept it: a
// well-formed log request, within the run's request cap, with fewer requests unanswered than the in-flight cap.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULTS } from '../../src/core/defaults.js';
import { RequestLedger } from '../../src/sandbox/process/log-ack.js';

const line = (id: number, extra: Record<string, unknown> = {}) => ({ v: 1, id, method: 'log', params: { level: 'info', message: `line ${id}`, ...extra } });

test('a well-formed log line is answered at once, and main\'s own answer to it is not passed on again', () => {
  const ledger = new RequestLedger();
  assert.deepEqual(ledger.forward(line(1)), { v: 1, id: 1, ok: true, result: null });
  assert.equal(ledger.answered({ v: 1, id: 1, ok: true, result: null }), false);
  // Any other call waits for main, whose answer goes on.
  assert.equal(ledger.forward({ v: 1, id: 2, method: 'clock.now', params: {} }), undefined);
  assert.equal(ledger.answered({ v: 1, id: 2, ok: true, result: {} }), true);
});

test('what main might refuse is left to main: malformed lines, the request cap, the in-flight cap, a reused id', () => {
  const ledger = new RequestLedger();
  for (const bad of [
    line(1, { level: 'fatal' }),
    line(2, { message: 'x'.repeat(8193) }),
    line(3, { extra: true }),
    { v: 1, id: 4, method: 'log', params: { level: 'info', message: 5 } },
    { v: 2, id: 5, method: 'log', params: { level: 'info', message: 'v2' } },
    { v: 1, id: 6, method: 'log', params: { level: 'info', message: 'x' }, more: 1 },
    { v: 1, id: -1, method: 'log', params: { level: 'info', message: 'x' } },
  ]) assert.equal(ledger.forward(bad), undefined, JSON.stringify(bad).slice(0, 80));
  // While fewer requests than the in-flight cap are unanswered, lines are answered here; past it, by main.
  const waiting = new RequestLedger();
  for (let id = 1; id <= DEFAULTS.brokerMaxInFlight; id++) assert.notEqual(waiting.forward(line(id)), undefined, `line ${id}`);
  assert.equal(waiting.forward(line(DEFAULTS.brokerMaxInFlight + 1)), undefined, 'as many unanswered as main may have in flight');
  waiting.answered({ v: 1, id: 1, ok: true, result: null });
  waiting.answered({ v: 1, id: 2, ok: true, result: null });
  assert.notEqual(waiting.forward(line(DEFAULTS.brokerMaxInFlight + 2)), undefined, 'room again once main answered');
  // An id whose earlier answer is still out is not answered twice.
  assert.equal(waiting.forward(line(3)), undefined);
  // The request cap counts every request, answered here or not.
  const capped = new RequestLedger();
  for (let id = 1; id <= DEFAULTS.brokerMaxRequests; id++) {
    capped.forward({ v: 1, id, method: 'clock.now', params: {} });
    capped.answered({ v: 1, id, ok: true, result: {} });
  }
  assert.equal(capped.forward(line(DEFAULTS.brokerMaxRequests + 1)), undefined, 'past the cap, main refuses it and says so');
});
