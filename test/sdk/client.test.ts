// The SDK client: every call becomes exactly one request that the broker's schema accepts, every protocol method is
// reachable from the typed SDK, and outside the sandbox each call fails with a message saying how to run the module.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSdk, SdkError } from '../../src/sdk/client.js';
import type { Call } from '../../src/sdk/client.js';
import { METHODS, methodSchemas, resultSchemas } from '../../src/sdk/protocol.js';
import type { Method, Results } from '../../src/sdk/protocol.js';
import * as outside from '../../src/sdk/index.js';

/** A result for each method that its result schema accepts, so the client can unwrap it. */
const RESULTS: Results = {
  'log': null,
  'permissions.set': { changed: 1 },
  'state.backup': { label: 'l', id: 'i', createdAt: '2026-01-01T00:00:00.000Z', files: 1, bytes: 1 },
  'state.restore': { label: 'l', id: 'i', files: 1 },
  'state.list': { backups: [] },
  'fs.readFile': { content: 'x' },
  'fs.writeFile': { changed: true },
  'fs.mkdir': { created: true },
  'fs.remove': { removed: true },
  'fs.exists': { exists: true },
  'exec': { exitCode: 0, stdout: '', stderr: '', timedOut: false },
  'services.restart': { name: 's', active: true, state: 'active' },
  'services.reload': { name: 's', active: true, state: 'active' },
  'services.status': { name: 's', active: true, state: 'active' },
  'store.get': { value: 1 },
  'store.set': null,
  'store.delete': { deleted: true },
  'store.keys': { keys: [] },
  'clock.now': { iso: '2026-01-01T00:00:00.000Z', epochMs: 0 },
  'clock.sleep': null,
  'random.bytes': { hex: '00112233445566778899aabbccddeeff' },
};

test('each SDK call sends one request the broker schema accepts; every method is reachable', async () => {
  const seen: { method: Method; params: unknown }[] = [];
  const call = ((method: Method, params: unknown) => {
    seen.push({ method, params });
    return Promise.resolve(RESULTS[method]);
  }) as Call;
  const sdk = createSdk(call, { who: 'x' });
  await sdk.log.debug('d');
  await sdk.log.info('i');
  await sdk.log.warn('w');
  await sdk.log.error('e');
  await sdk.permissions.set([{ path: '/srv/a', owner: 'root', mode: 0o644 }]);
  assert.deepEqual(await sdk.permissions.restoreServicePermissionsSimple({ owner: 'www-data' }), { changed: 0 }, 'no folder given: no request');
  await sdk.permissions.restoreServicePermissionsSimple({ owner: 'www-data', configDir: '/etc/a', binaryPath: '/usr/bin/a' });
  await sdk.state.backup('before', ['/etc/a']);
  await sdk.state.restore('before');
  assert.deepEqual(await sdk.state.list(), []);
  assert.equal(await sdk.fs.readFile('/etc/a/x'), 'x');
  assert.equal(await sdk.fs.writeFile('/etc/a/x', 'y', { mode: 0o600 }), true);
  assert.equal(await sdk.fs.mkdir('/etc/a/d'), true);
  assert.equal(await sdk.fs.remove('/etc/a/d'), true);
  assert.equal(await sdk.fs.exists('/etc/a/x'), true);
  await sdk.exec(['true']);
  await sdk.services.restart('s');
  await sdk.services.reload('s');
  await sdk.services.status('s');
  assert.equal(await sdk.store.get('k'), 1);
  await sdk.store.set('k', { a: [1, 'b', null] });
  assert.equal(await sdk.store.delete('k'), true);
  assert.deepEqual(await sdk.store.keys(), []);
  assert.equal((await sdk.clock.now()).epochMs, 0);
  await sdk.clock.sleep(5);
  assert.equal(await sdk.random.hex(), '00112233445566778899aabbccddeeff');
  assert.equal(await sdk.random.uuid(), '00112233-4455-4677-8899-aabbccddeeff');
  assert.deepEqual(sdk.config, { who: 'x' });

  for (const { method, params } of seen) {
    const parsed = methodSchemas[method].safeParse(params);
    assert.ok(parsed.success, `${method}: ${JSON.stringify(params)} is refused by the broker schema`);
  }
  assert.deepEqual(new Set(seen.map((s) => s.method)), new Set(METHODS), 'an SDK function for every protocol method');
  for (const m of METHODS) assert.ok(resultSchemas[m].safeParse(RESULTS[m]).success, `${m}: result schema`);
});

test('each namespace is built on its first read, sealed once, and the same object after; all are own enumerable properties', () => {
  const call = (() => Promise.resolve(null)) as Call;
  const sealed: unknown[] = [];
  const sdk = createSdk(call, {}, { check: false }, (value) => {
    sealed.push(value);
    return Object.freeze(value);
  });
  assert.equal(sealed.length, 0, 'nothing built before a read');
  const log = sdk.log;
  assert.deepEqual(sealed, [log], 'the first read builds and seals log alone');
  assert.equal(sdk.log, log, 'a second read gives the same object');
  assert.equal(sealed.length, 1, 'and does not seal again');
  assert.ok(Object.isFrozen(sdk.fs), 'what seal returns is what the module gets');
  const names = ['log', 'permissions', 'state', 'fs', 'services', 'clock', 'random', 'store'];
  const spread = { ...sdk };
  for (const name of names) {
    assert.ok(Object.getOwnPropertyDescriptor(sdk, name)?.enumerable, `${name}: an own enumerable property`);
    assert.equal(spread[name as keyof typeof spread], sdk[name as keyof typeof sdk], `${name}: spreading gives the same namespace`);
  }
  assert.equal(sealed.length, names.length, 'each namespace sealed exactly once');
});

test('outside the sandbox every call fails with E_NO_SANDBOX and says how to run the module', async () => {
  const err = await outside.fs.readFile('/etc/hostname').then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof SdkError);
  assert.equal(err.code, 'E_NO_SANDBOX');
  assert.match(err.message, /updates run-module/);
});
