// The hand-written checks of the frequent IPC messages accept exactly what the zod schemas accept, never more.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quickReply, quickToMain, toHostSchema, toMainSchema } from '../../src/sandbox/wire/host.js';

const nullProto = Object.assign(Object.create(null) as object, { t: 'started', id: 1 });
const samples: unknown[] = [
  { t: 'started', id: 1 },
  { t: 'started', id: 0 },
  { t: 'started', id: -1 },
  { t: 'started', id: 1.5 },
  { t: 'started', id: Number.MAX_SAFE_INTEGER + 1 },
  { t: 'started', id: '1' },
  { t: 'started', id: 1, extra: true },
  { t: 'started' },
  nullProto,
  { t: 'request', id: 2, raw: { v: 1, id: 1, method: 'log', params: {} } },
  { t: 'request', id: 2, raw: undefined },
  { t: 'request', id: 2 },
  { t: 'request', id: 2, raw: 1, more: 1 },
  { t: 'settled', id: 3, ok: true, reply: { ok: true } },
  { t: 'settled', id: 3, ok: true },
  { t: 'settled', id: 3, ok: true, reply: 1, x: 1 },
  { t: 'settled', id: 3, ok: 'true', reply: 1 },
  { t: 'settled', id: 3, ok: false, error: { message: 'x' }, aborted: false },
  { t: 'reply', id: 4, reply: { v: 1 } },
  { t: 'reply', id: -4, reply: {} },
  { t: 'reply', id: 4 },
  { t: 'reply', id: 4, reply: {}, y: 2 },
  { t: 'ready', v: 4 },
  { t: 'log', level: 'warn', message: 'm' },
  [],
  null,
  'started',
  Object.assign([], { t: 'started', id: 1 }),
];

test('quickToMain and quickReply never accept what the schemas refuse, and give what the schemas give', () => {
  for (const raw of samples) {
    const quick = quickToMain(raw);
    if (quick !== undefined) {
      const full = toMainSchema.safeParse(raw);
      assert.ok(full.success, `quickToMain accepted ${JSON.stringify(raw)}`);
      assert.deepEqual(quick, full.data);
    }
    const reply = quickReply(raw);
    if (reply !== undefined) {
      const full = toHostSchema.safeParse(raw);
      assert.ok(full.success, `quickReply accepted ${JSON.stringify(raw)}`);
      assert.deepEqual(reply, full.data);
    }
  }
});

test('the frequent messages take the quick path', () => {
  assert.deepEqual(quickToMain({ t: 'started', id: 1 }), { t: 'started', id: 1 });
  assert.deepEqual(quickToMain({ t: 'request', id: 2, raw: 'r' }), { t: 'request', id: 2, raw: 'r' });
  assert.deepEqual(quickToMain({ t: 'settled', id: 3, ok: true, reply: 'x' }), { t: 'settled', id: 3, ok: true, reply: 'x' });
  assert.deepEqual(quickReply({ t: 'reply', id: 4, reply: 'y' }), { t: 'reply', id: 4, reply: 'y' });
});
