// clock.* and random.bytes: the time, a bounded wait and random bytes for modules, whose compartment has none of them;
// a sleep ends with the run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { audited, err, makeHarness, ok } from './harness.js';
import type { Harness } from './harness.js';

describe('clock', () => {
  let h: Harness;
  before(async () => {
    h = await makeHarness({});
  });
  after(() => h.cleanup());

  it('now() gives the orchestrator\'s time, as ISO text and epoch milliseconds that agree', async () => {
    const before = Date.now();
    const t = ok<{ iso: string; epochMs: number }>(await h.call('clock.now', {}));
    assert.ok(t.epochMs >= before);
    assert.equal(new Date(t.iso).getTime(), t.epochMs);
    audited(h.lines, { method: 'clock.now', decision: 'allowed' });
  });

  it('random.bytes gives the asked number of bytes, different each call, within the protocol bound', async () => {
    const a = ok<{ hex: string }>(await h.call('random.bytes', { bytes: 32 })).hex;
    const b = ok<{ hex: string }>(await h.call('random.bytes', { bytes: 32 })).hex;
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.notEqual(a, b);
    err(await h.call('random.bytes', { bytes: 1025 }), 'E_BAD_REQUEST');
    err(await h.call('random.bytes', { bytes: 0 }), 'E_BAD_REQUEST');
    audited(h.lines, { method: 'random.bytes', decision: 'allowed', bytes: 32 });
  });

  it('sleep() resolves, and refuses a wait past the protocol bound or a negative one', async () => {
    assert.equal(ok(await h.call('clock.sleep', { ms: 5 })), null);
    err(await h.call('clock.sleep', { ms: 60_001 }), 'E_BAD_REQUEST');
    err(await h.call('clock.sleep', { ms: -1 }), 'E_BAD_REQUEST');
  });

  it('a sleep in progress ends with E_RUN_ENDED when the run ends', async () => {
    const second = h.again();
    const pending = second.handle({ v: 1, id: 7, method: 'clock.sleep', params: { ms: 60_000 } });
    second.close();
    err(await pending, 'E_RUN_ENDED');
  });
});
