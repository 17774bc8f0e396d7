// The hand-written checks of the frequent IPC messages accept exactly what the zod schemas accept, never more,
// and give what the schemas give.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import { quickReply, quickRun, quickToMain, toHostSchema, toMainSchema } from '../../src/sandbox/wire/host.js';

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

/** A run message as main sends it; `over` replaces (or, with undefined, sets to undefined) some of its keys. */
function run(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { t: 'run', id: 7, module: 'web', code: 'exports.main = () => ({ success: true })', configuration: { a: 1, nested: { b: [2] } }, args: ['--x'], check: false, timeoutMs: 300_000, maxMemoryMb: 256, ...over };
}
const sparse: string[] = ['a'];
sparse[2] = 'c';
const withExtra = Object.assign(['a'], { extra: 'x' });
/** A configuration with an own "__proto__" key, as a JSON text or a deserialized message can carry. */
const protoKey = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>;
const symbolKey = { ok: 1, [Symbol('s')]: 2 };
const hidden = Object.defineProperty({ ok: 1 }, 'secret', { value: 2, enumerable: false });
const runs: unknown[] = [
  run(),
  run({ after: 6 }),
  run({ after: 6, onlyIfOk: true }),
  run({ onlyIfOk: true }),
  run({ after: undefined }),
  run({ onlyIfOk: undefined }),
  run({ onlyIfOk: false }),
  run({ after: -1 }),
  run({ after: 1.5 }),
  run({ id: -1 }),
  run({ id: '7' }),
  run({ module: 1 }),
  run({ code: undefined }),
  run({ check: 'no' }),
  run({ timeoutMs: 0 }),
  run({ timeoutMs: -5 }),
  run({ timeoutMs: Number.POSITIVE_INFINITY }),
  run({ timeoutMs: Number.NaN }),
  run({ maxMemoryMb: 0 }),
  run({ args: [] }),
  run({ args: ['a', 1] }),
  run({ args: sparse }),
  run({ args: withExtra }),
  run({ args: 'a' }),
  run({ configuration: {} }),
  run({ configuration: null }),
  run({ configuration: [] }),
  run({ configuration: protoKey }),
  run({ configuration: symbolKey }),
  run({ configuration: hidden }),
  run({ configuration: Object.create(null) as object }),
  run({ configuration: new Map([['a', 1]]) }),
  run({ extra: 1 }),
  // What arrives through the IPC channel: the same values, deserialized.
  deserialize(serialize(run({ after: 3, onlyIfOk: true }))),
  deserialize(serialize(run({ configuration: JSON.parse('{"__proto__": 1}') as unknown }))),
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

test('quickRun never accepts what the schema refuses, and gives what the schema gives', () => {
  let taken = 0;
  for (const raw of [...runs, ...samples]) {
    const quick = quickRun(raw);
    if (quick === undefined) continue;
    taken += 1;
    const full = toHostSchema.safeParse(raw);
    assert.ok(full.success, `quickRun accepted ${JSON.stringify(raw)}`);
    assert.deepEqual(quick, full.data);
  }
  // The messages main sends take it: a run alone, after another, after another only if that one succeeds (or
  // with onlyIfOk alone, which the schema allows too), with no arguments or an empty configuration, and what the
  // channel delivers of them; everything else in the list above goes to the schema.
  assert.equal(taken, 7);
});

test('the frequent messages take the quick path', () => {
  assert.deepEqual(quickToMain({ t: 'started', id: 1 }), { t: 'started', id: 1 });
  assert.deepEqual(quickToMain({ t: 'request', id: 2, raw: 'r' }), { t: 'request', id: 2, raw: 'r' });
  assert.deepEqual(quickToMain({ t: 'settled', id: 3, ok: true, reply: 'x' }), { t: 'settled', id: 3, ok: true, reply: 'x' });
  assert.deepEqual(quickReply({ t: 'reply', id: 4, reply: 'y' }), { t: 'reply', id: 4, reply: 'y' });
  assert.deepEqual(quickRun(run({ after: 6, onlyIfOk: true })), run({ after: 6, onlyIfOk: true }));
});
