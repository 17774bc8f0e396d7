// The broker's front door: malformed and smuggled requests, prototype pollution, limits, and the end of a run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { audited, demoGrant, err, makeHarness, ok } from './harness.js';
import type { Harness } from './harness.js';

describe('broker requests', () => {
  let h: Harness;
  before(async () => {
    h = await makeHarness({ paths: [demoGrant(['read', 'write'])] });
  });
  after(() => h.cleanup());

  it('answers a message that is not a request with E_BAD_REQUEST and id -1', async () => {
    for (const raw of [null, 42, 'fs.readFile', [], { v: 2, id: 1, method: 'log', params: {} }]) {
      const reply = await h.broker.handle(raw);
      err(reply, 'E_BAD_REQUEST');
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) assert.equal(reply.id, -1);
    }
    audited(h.lines, { method: 'unknown', decision: 'denied', code: 'E_BAD_REQUEST' });
  });

  it('keeps a valid id on a malformed request so the module call settles', async () => {
    const reply = await h.broker.handle({ v: 1, id: 77, method: 'no.such', params: {} });
    assert.equal(reply.id, 77);
    err(reply, 'E_BAD_REQUEST');
    audited(h.lines, { method: 'no.such', decision: 'denied', code: 'E_BAD_REQUEST' });
  });

  it('refuses extra keys in params and in the envelope (argument smuggling)', async () => {
    err(await h.call('fs.exists', { path: '/srv/demo', owner: 0 }), 'E_BAD_REQUEST');
    err(await h.broker.handle({ v: 1, id: 5, method: 'fs.exists', params: { path: '/srv/demo' }, module: 'other' }), 'E_BAD_REQUEST');
    audited(h.lines, { method: 'fs.exists', decision: 'denied', code: 'E_BAD_REQUEST' });
  });

  it('refuses wrong types', async () => {
    err(await h.call('fs.exists', { path: 42 }), 'E_BAD_REQUEST');
    err(await h.call('fs.writeFile', { path: '/srv/demo/x', content: { toString: 'x' } }), 'E_BAD_REQUEST');
    err(await h.call('exec', { argv: '/bin/echo hi' }), 'E_BAD_REQUEST');
    err(await h.call('fs.exists', { path: 'srv/demo' }), 'E_BAD_REQUEST');
  });

  it('refuses __proto__ keys and leaves Object.prototype clean', async () => {
    const polluted = JSON.parse('{"__proto__":{"polluted":1}}') as unknown;
    err(await h.call('fs.exists', polluted), 'E_BAD_REQUEST');
    err(await h.call('store.set', { key: 'k', value: JSON.parse('{"a":{"__proto__":{"polluted":1}}}') as unknown }), 'E_BAD_REQUEST');
    err(await h.broker.handle(JSON.parse('{"v":1,"id":9,"method":"log","params":{},"__proto__":{"polluted":1}}') as unknown), 'E_BAD_REQUEST');
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    audited(h.lines, { method: 'store.set', decision: 'denied', code: 'E_BAD_REQUEST' });
  });

  it('refuses live objects that are not plain data (functions, toJSON tricks)', async () => {
    const reply = await h.call('fs.exists', { path: '/srv/demo', toJSON: () => ({ path: '/etc' }) });
    err(reply, 'E_BAD_REQUEST');
  });

  it('refuses a getter without running it: only plain data is checked, so nothing can change after the check', async () => {
    let reads = 0;
    const params = {
      get path() {
        reads += 1;
        return reads === 1 ? '/srv/demo' : '/etc/passwd';
      },
    };
    err(await h.call('fs.exists', params), 'E_BAD_REQUEST');
    assert.equal(reads, 0);
  });

  it('refuses typed arrays, Maps, Sets and Dates before any walk or copy, with the call\'s id', async () => {
    const big = new Uint8Array(24 * 1024 * 1024);
    for (const value of [big, new Map([['a', 1]]), new Set([1]), new Date(0), { nested: [new Float64Array(4)] }]) {
      const reply = await h.broker.handle({ v: 1, id: 77, method: 'store.set', params: { key: 'k', value } });
      const e = err(reply, 'E_BAD_REQUEST');
      assert.equal(reply.id, 77);
      assert.match(e.message, /not accepted/);
    }
    audited(h.lines, { method: 'store.set', decision: 'denied', code: 'E_BAD_REQUEST' });
  });

  it('refuses a request over the raw size cap (E_LIMIT) and a huge sparse array, without walking them', async () => {
    const small = await makeHarness({ paths: [demoGrant(['read', 'write'])] }, { limits: { maxRequestBytes: 1024 } });
    try {
      err(await small.call('store.set', { key: 'k', value: 'x'.repeat(2048) }), 'E_LIMIT');
      err(await small.call('store.set', { key: 'k', value: Array.from({ length: 100 }, () => 'y'.repeat(20)) }), 'E_LIMIT');
      ok(await small.call('store.set', { key: 'k', value: 'x'.repeat(100) }));
    } finally {
      await small.cleanup();
    }
    const sparse: unknown[] = [];
    sparse.length = 1e9;
    err(await h.call('store.set', { key: 'k', value: sparse }), 'E_BAD_REQUEST');
  });

  it('refuses absurdly deep values', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200; i++) deep = [deep];
    err(await h.call('store.set', { key: 'deep', value: deep }), 'E_BAD_REQUEST');
  });

  it('forwards module logs with moduleLog and audits them', async () => {
    ok(await h.call('log', { level: 'warn', message: 'hello from demo' }));
    assert.ok(h.lines.some((l) => l['moduleLog'] === true && l['msg'] === 'hello from demo' && l['level'] === 40));
    audited(h.lines, { method: 'log', decision: 'allowed', level: 'warn' });
    ok(await h.call('log', { level: 'info', message: 'fake\n\u001b[31mERROR orchestrator compromised' }));
    const forged = h.lines.find((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('fake'));
    assert.equal(forged?.['msg'], 'fake\uFFFD\uFFFD[31mERROR orchestrator compromised');
  });
});

describe('broker limits and end of run', () => {
  it('refuses a flood beyond the request limit, logging the first refusal only', async () => {
    const h = await makeHarness({ paths: [demoGrant(['read'])] }, { limits: { maxRequests: 5 } });
    try {
      const replies = [];
      for (let i = 0; i < 20; i++) replies.push(await h.call('fs.exists', { path: '/srv/demo' }));
      assert.equal(replies.filter((r) => r.ok).length, 5);
      for (const r of replies.slice(5)) err(r, 'E_LIMIT');
      assert.equal(h.lines.filter((l) => l['code'] === 'E_LIMIT').length, 1);
      assert.deepEqual(h.broker.stats, { requests: 20, denied: 15 });
      h.broker.close();
      audited(h.lines, { code: 'E_LIMIT', suppressed: 14 });
    } finally {
      await h.cleanup();
    }
  });

  it('refuses requests beyond the in-flight limit', async () => {
    const h = await makeHarness({ commands: [['/bin/sh', '-c', 'read x']] }, { limits: { maxInFlight: 2 } });
    try {
      const slow = [h.call('exec', { argv: ['/bin/sh', '-c', 'read x'], input: '', timeoutMs: 5000 })];
      slow.push(h.call('exec', { argv: ['/bin/sh', '-c', 'read x'], input: '', timeoutMs: 5000 }));
      err(await h.call('fs.exists', { path: '/srv' }), 'E_LIMIT');
      audited(h.lines, { method: 'fs.exists', decision: 'denied', code: 'E_LIMIT' });
      for (const r of await Promise.all(slow)) ok(r);
    } finally {
      await h.cleanup();
    }
  });

  it('refuses every request after close() with E_RUN_ENDED', async () => {
    const h = await makeHarness({ paths: [demoGrant(['read'])] });
    try {
      ok(await h.call('fs.exists', { path: '/srv/demo' }));
      h.broker.close();
      err(await h.call('fs.exists', { path: '/srv/demo' }), 'E_RUN_ENDED');
      err(await h.broker.handle('garbage'), 'E_RUN_ENDED');
      audited(h.lines, { method: 'fs.exists', decision: 'denied', code: 'E_RUN_ENDED' });
    } finally {
      await h.cleanup();
    }
  });
});
