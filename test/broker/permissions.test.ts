// permissions.set: real chown/chmod as root, owner/group allowlists by id, special bits, recursion, target types.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { audited, demoGrant, err, makeHarness, ok } from './harness.js';
import type { Harness } from './harness.js';

const NOBODY = 65534;

describe('permissions.set', () => {
  let h: Harness;
  before(async () => {
    h = await makeHarness({
      paths: [
        demoGrant(['read', 'chown', 'chmod'], { owners: ['nobody', 0], groups: [NOBODY] }),
        { path: '/srv/nochown', access: ['chmod'] },
        { path: '/srv/svc', access: ['chown'], owners: ['nobody'], groups: ['nogroup'] },
        { path: '/srv/special', access: ['chmod'], allow_special_bits: true },
      ],
    });
    for (const d of ['/srv/demo/tree/sub', '/srv/nochown', '/srv/special', '/srv/svc']) await fsp.mkdir(h.host(d), { recursive: true });
    await fsp.writeFile(h.host('/srv/demo/tree/a'), 'a');
    await fsp.writeFile(h.host('/srv/demo/tree/sub/b'), 'b');
    await fsp.writeFile(h.host('/srv/demo/file'), 'f');
    await fsp.writeFile(h.host('/srv/special/bin'), '#!/bin/sh\n');
    await fsp.symlink(path.join(h.outside, 'secret.txt'), h.host('/srv/demo/tree/escape'));
  });
  after(() => h.cleanup());

  it('chowns by name and by id, and chmods, through a recursive walk that skips symlinks', async () => {
    const res = ok<{ changed: number }>(await h.call('permissions.set', {
      targets: [{ path: '/srv/demo/tree', owner: 'nobody', group: 'nogroup', mode: '750', recursive: true, target_type: 'directory' }],
    }));
    assert.equal(res.changed, 4); // tree, tree/a, tree/sub, tree/sub/b
    for (const p of ['/srv/demo/tree', '/srv/demo/tree/a', '/srv/demo/tree/sub/b']) {
      const st = await fsp.stat(h.host(p));
      assert.equal(st.uid, NOBODY);
      assert.equal(st.gid, NOBODY);
      assert.equal(st.mode & 0o7777, 0o750);
    }
    const secret = await fsp.stat(path.join(h.outside, 'secret.txt'));
    assert.equal(secret.uid, 0);
    const line = audited(h.lines, { method: 'permissions.set', decision: 'allowed', paths: ['/srv/demo/tree'], changed: 4 });
    assert.deepEqual(line['skippedSymlinks'], ['/srv/demo/tree/escape']);
    // a second identical call changes nothing
    const again = ok<{ changed: number }>(await h.call('permissions.set', {
      targets: [{ path: '/srv/demo/tree', owner: NOBODY, group: NOBODY, mode: 0o750, recursive: true }],
    }));
    assert.equal(again.changed, 0);
  });

  it('refuses an undeclared owner, and uid 0 given as a group or unlisted id', async () => {
    err(await h.call('permissions.set', { targets: [{ path: '/srv/demo/file', owner: 'daemon' }] }), 'E_UNDECLARED_OWNER');
    err(await h.call('permissions.set', { targets: [{ path: '/srv/demo/file', group: 0 }] }), 'E_UNDECLARED_OWNER');
    err(await h.call('permissions.set', { targets: [{ path: '/srv/demo/file', group: 'root' }] }), 'E_UNDECLARED_OWNER');
    err(await h.call('permissions.set', { targets: [{ path: '/srv/demo/file', owner: 12345 }] }), 'E_UNDECLARED_OWNER');
    assert.equal((await fsp.stat(h.host('/srv/demo/file'))).gid, 0);
    audited(h.lines, { method: 'permissions.set', decision: 'denied', code: 'E_UNDECLARED_OWNER', paths: ['/srv/demo/file'] });
  });

  it('refuses uid 0 where no grant declares it, by number, numeric string or name', async () => {
    for (const owner of [0, '0', 'root']) {
      err(await h.call('permissions.set', { targets: [{ path: '/srv/svc', owner }] }), 'E_UNDECLARED_OWNER');
    }
    ok(await h.call('permissions.set', { targets: [{ path: '/srv/svc', owner: '65534', group: 'nogroup' }] }));
    assert.equal((await fsp.stat(h.host('/srv/svc'))).uid, NOBODY);
    audited(h.lines, { method: 'permissions.set', decision: 'denied', code: 'E_UNDECLARED_OWNER', paths: ['/srv/svc'] });
    err(await h.call('permissions.set', { targets: [{ path: '/srv/nochown', owner: 0 }] }), 'E_UNDECLARED_PATH');
    audited(h.lines, { method: 'permissions.set', decision: 'denied', code: 'E_UNDECLARED_PATH', paths: ['/srv/nochown'] });
  });

  it('refuses setuid/setgid/sticky unless allow_special_bits', async () => {
    err(await h.call('permissions.set', { targets: [{ path: '/srv/demo/file', mode: '4755' }] }), 'E_SPECIAL_BITS');
    err(await h.call('permissions.set', { targets: [{ path: '/srv/demo/file', mode: 0o2755 }] }), 'E_SPECIAL_BITS');
    assert.equal((await fsp.stat(h.host('/srv/demo/file'))).mode & 0o7000, 0);
    ok(await h.call('permissions.set', { targets: [{ path: '/srv/special/bin', mode: '4755' }] }));
    assert.equal((await fsp.stat(h.host('/srv/special/bin'))).mode & 0o7777, 0o4755);
    audited(h.lines, { method: 'permissions.set', decision: 'denied', code: 'E_SPECIAL_BITS' });
  });

  it('checks every target before changing any', async () => {
    await fsp.chmod(h.host('/srv/demo/file'), 0o644);
    err(await h.call('permissions.set', {
      targets: [{ path: '/srv/demo/file', mode: 0o600 }, { path: '/etc/shadow', mode: 0o644 }],
    }), 'E_UNDECLARED_PATH');
    assert.equal((await fsp.stat(h.host('/srv/demo/file'))).mode & 0o7777, 0o644);
  });

  it('refuses a target_type mismatch and a missing path', async () => {
    err(await h.call('permissions.set', { targets: [{ path: '/srv/demo/file', mode: 0o600, target_type: 'directory' }] }), 'E_BAD_REQUEST');
    err(await h.call('permissions.set', { targets: [{ path: '/srv/demo/nothing', mode: 0o600 }] }), 'E_NOT_FOUND');
    err(await h.call('permissions.set', { targets: [{ path: '/srv/demo/file' }] }), 'E_BAD_REQUEST');
  });

  it('refuses a chown through a symlink that leaves the grant', async () => {
    err(await h.call('permissions.set', { targets: [{ path: '/srv/demo/tree/escape', owner: 'nobody' }] }), 'E_PATH_ESCAPE');
    assert.equal((await fsp.stat(path.join(h.outside, 'secret.txt'))).uid, 0);
  });
});
