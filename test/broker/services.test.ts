// services.*: declared units only, through the recording backend (machines without systemd).
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { audited, err, makeHarness, ok } from './harness.js';
import type { Harness } from './harness.js';

describe('services', () => {
  let h: Harness;
  before(async () => {
    h = await makeHarness({ services: ['demo.service'] });
  });
  after(() => h.cleanup());

  it('restarts, reloads and reports a declared service', async () => {
    const expected = { name: 'demo.service', active: true, state: 'recorded' };
    assert.deepEqual(ok(await h.call('services.restart', { name: 'demo.service' })), expected);
    assert.deepEqual(ok(await h.call('services.reload', { name: 'demo.service' })), expected);
    assert.deepEqual(ok(await h.call('services.status', { name: 'demo.service' })), expected);
    const recorded = (await fsp.readFile(h.servicesFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { action: string; name: string });
    assert.deepEqual(recorded.map((r) => `${r.action} ${r.name}`), ['restart demo.service', 'reload demo.service', 'status demo.service']);
    audited(h.lines, { method: 'services.restart', decision: 'allowed', service: 'demo.service' });
  });

  it('refuses an undeclared service, including look-alikes', async () => {
    for (const name of ['sshd.service', 'demo', 'demo.service ', '--now demo.service']) {
      err(await h.call('services.restart', { name }), 'E_UNDECLARED_SERVICE');
    }
    err(await h.call('services.status', { name: 'sshd.service' }), 'E_UNDECLARED_SERVICE');
    audited(h.lines, { method: 'services.restart', decision: 'denied', code: 'E_UNDECLARED_SERVICE', service: 'sshd.service' });
  });
});
