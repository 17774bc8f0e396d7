// store.*: a per-module JSON store, persistent across runs, atomic, size-capped, with "__proto__" as a plain key.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { audited, err, makeHarness, ok } from './harness.js';
import type { Harness } from './harness.js';

describe('store', () => {
  let h: Harness;
  before(async () => {
    h = await makeHarness({}, { limits: { storeMaxBytes: 2048 } });
  });
  after(() => h.cleanup());

  it('sets, gets, lists and deletes keys', async () => {
    assert.equal(ok(await h.call('store.set', { key: 'version', value: { n: 1, tags: ['a'] } })), null);
    assert.deepEqual(ok(await h.call('store.get', { key: 'version' })), { value: { n: 1, tags: ['a'] } });
    assert.deepEqual(ok(await h.call('store.get', { key: 'missing' })), { value: undefined });
    ok(await h.call('store.set', { key: 'b', value: true }));
    assert.deepEqual(ok(await h.call('store.keys', {})), { keys: ['b', 'version'] });
    assert.deepEqual(ok(await h.call('store.delete', { key: 'b' })), { deleted: true });
    assert.deepEqual(ok(await h.call('store.delete', { key: 'b' })), { deleted: false });
    audited(h.lines, { method: 'store.set', decision: 'allowed', key: 'version' });
  });

  it('persists across two broker instances (two runs)', async () => {
    ok(await h.call('store.set', { key: 'last-run', value: 'run-1' }));
    const second = h.again();
    try {
      const reply = await second.handle({ v: 1, id: 1, method: 'store.get', params: { key: 'last-run' } });
      assert.deepEqual(ok(reply), { value: 'run-1' });
    } finally {
      second.close();
    }
    const file = path.join(h.stateDir, 'store', 'demo.json');
    assert.equal((JSON.parse(await fsp.readFile(file, 'utf8')) as Record<string, unknown>)['last-run'], 'run-1');
  });

  it('keeps each module to its own store', async () => {
    const other = await makeHarness({}, { module: 'other' });
    try {
      assert.deepEqual(ok(await other.call('store.get', { key: 'last-run' })), { value: undefined });
    } finally {
      await other.cleanup();
    }
  });

  it('treats "__proto__" as an ordinary key', async () => {
    ok(await h.call('store.set', { key: '__proto__', value: { polluted: 1 } }));
    assert.deepEqual(ok(await h.call('store.get', { key: '__proto__' })), { value: { polluted: 1 } });
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    ok(await h.call('store.delete', { key: '__proto__' }));
  });

  it('refuses a write that would exceed the cap, keeping the old store', async () => {
    const file = path.join(h.stateDir, 'store', 'demo.json');
    const beforeText = await fsp.readFile(file, 'utf8');
    err(await h.call('store.set', { key: 'big', value: 'x'.repeat(4096) }), 'E_LIMIT');
    assert.equal(await fsp.readFile(file, 'utf8'), beforeText);
    audited(h.lines, { method: 'store.set', decision: 'denied', code: 'E_LIMIT', key: 'big' });
  });

  it('serializes concurrent writes of one module', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => h.call('store.set', { key: `k${i}`, value: i })));
    const keys = ok<{ keys: string[] }>(await h.call('store.keys', {})).keys;
    for (let i = 0; i < 10; i++) assert.ok(keys.includes(`k${i}`));
  });
});
