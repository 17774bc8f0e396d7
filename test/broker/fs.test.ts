// fs.* through the broker: allowed paths, undeclared paths, traversal, symlink escapes, size limits, modes.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { audited, demoGrant, err, makeHarness, ok } from './harness.js';
import type { Harness } from './harness.js';

describe('fs methods', () => {
  let h: Harness;
  before(async () => {
    h = await makeHarness({
      paths: [demoGrant(['read', 'write']), { path: '/srv/readonly', access: ['read'] }, { path: '/srv/suid', access: ['write'], allow_special_bits: true }],
    }, { limits: { maxFileBytes: 1024 } });
    await fsp.mkdir(h.host('/srv/readonly'), { recursive: true });
    await fsp.mkdir(h.host('/srv/suid'), { recursive: true });
    await fsp.writeFile(h.host('/srv/demo/app.conf'), 'port=1\n');
    await fsp.writeFile(h.host('/srv/readonly/r.txt'), 'ro\n');
  });
  after(() => h.cleanup());

  it('reads a declared file', async () => {
    assert.deepEqual(ok(await h.call('fs.readFile', { path: '/srv/demo/app.conf' })), { content: 'port=1\n' });
    audited(h.lines, { method: 'fs.readFile', decision: 'allowed', path: '/srv/demo/app.conf' });
  });

  it('writes atomically, keeps mode and owner, and reports changed=false for identical content', async () => {
    const file = h.host('/srv/demo/app.conf');
    await fsp.chmod(file, 0o640);
    await fsp.chown(file, 65534, 65534);
    assert.deepEqual(ok(await h.call('fs.writeFile', { path: '/srv/demo/app.conf', content: 'port=2\n' })), { changed: true });
    const st = await fsp.stat(file);
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(st.uid, 65534);
    assert.equal(await fsp.readFile(file, 'utf8'), 'port=2\n');
    assert.deepEqual(ok(await h.call('fs.writeFile', { path: '/srv/demo/app.conf', content: 'port=2\n' })), { changed: false });
    assert.deepEqual(ok(await h.call('fs.writeFile', { path: '/srv/demo/new.txt', content: 'x', mode: '600' })), { changed: true });
    assert.equal((await fsp.stat(h.host('/srv/demo/new.txt'))).mode & 0o7777, 0o600);
    const leftovers = (await fsp.readdir(h.host('/srv/demo'))).filter((n) => n.startsWith('.'));
    assert.deepEqual(leftovers, []);
    audited(h.lines, { method: 'fs.writeFile', decision: 'allowed', path: '/srv/demo/new.txt' });
  });

  it('mkdir -p inside the grant, exists, remove of a tree', async () => {
    assert.deepEqual(ok(await h.call('fs.mkdir', { path: '/srv/demo/a/b/c', mode: 0o750 })), { created: true });
    assert.equal((await fsp.stat(h.host('/srv/demo/a/b/c'))).mode & 0o7777, 0o750);
    assert.deepEqual(ok(await h.call('fs.mkdir', { path: '/srv/demo/a/b/c' })), { created: false });
    assert.deepEqual(ok(await h.call('fs.exists', { path: '/srv/demo/a/b' })), { exists: true });
    assert.deepEqual(ok(await h.call('fs.remove', { path: '/srv/demo/a' })), { removed: true });
    assert.deepEqual(ok(await h.call('fs.exists', { path: '/srv/demo/a' })), { exists: false });
    assert.deepEqual(ok(await h.call('fs.remove', { path: '/srv/demo/a' })), { removed: false });
    audited(h.lines, { method: 'fs.mkdir', decision: 'allowed', path: '/srv/demo/a/b/c' });
    audited(h.lines, { method: 'fs.remove', decision: 'allowed', path: '/srv/demo/a' });
  });

  it('never removes the grant root', async () => {
    err(await h.call('fs.remove', { path: '/srv/demo' }), 'E_PATH_ESCAPE');
    err(await h.call('fs.remove', { path: '/srv/demo/' }), 'E_PATH_ESCAPE');
    assert.ok((await fsp.stat(h.host('/srv/demo'))).isDirectory());
    audited(h.lines, { method: 'fs.remove', decision: 'denied', code: 'E_PATH_ESCAPE', path: '/srv/demo' });
  });

  it('refuses undeclared paths and missing access', async () => {
    const e = err(await h.call('fs.readFile', { path: '/etc/passwd' }), 'E_UNDECLARED_PATH');
    assert.equal(e.data?.['path'], '/etc/passwd');
    err(await h.call('fs.writeFile', { path: '/srv/readonly/r.txt', content: 'x' }), 'E_UNDECLARED_PATH');
    err(await h.call('fs.readFile', { path: '/srv/demoX/file' }), 'E_UNDECLARED_PATH');
    assert.equal(await fsp.readFile(h.host('/srv/readonly/r.txt'), 'utf8'), 'ro\n');
    audited(h.lines, { method: 'fs.readFile', decision: 'denied', code: 'E_UNDECLARED_PATH', path: '/etc/passwd' });
  });

  it('refuses ".." traversal', async () => {
    err(await h.call('fs.readFile', { path: '/srv/demo/../../etc/passwd' }), 'E_PATH_ESCAPE');
    err(await h.call('fs.writeFile', { path: '/srv/demo/..', content: 'x' }), 'E_PATH_ESCAPE');
    audited(h.lines, { method: 'fs.readFile', decision: 'denied', code: 'E_PATH_ESCAPE', path: '/srv/demo/../../etc/passwd' });
  });

  it('refuses a symlink inside the grant that points outside, for read and for write', async () => {
    await fsp.symlink(path.join(h.outside, 'secret.txt'), h.host('/srv/demo/link.txt'));
    await fsp.symlink(h.outside, h.host('/srv/demo/linkdir'));
    const e = err(await h.call('fs.readFile', { path: '/srv/demo/link.txt' }), 'E_PATH_ESCAPE');
    assert.ok(!JSON.stringify(e).includes(h.root), 'no host path in the error');
    err(await h.call('fs.readFile', { path: '/srv/demo/linkdir/secret.txt' }), 'E_PATH_ESCAPE');
    err(await h.call('fs.writeFile', { path: '/srv/demo/link.txt', content: 'owned' }), 'E_PATH_ESCAPE');
    err(await h.call('fs.writeFile', { path: '/srv/demo/linkdir/new.txt', content: 'owned' }), 'E_PATH_ESCAPE');
    err(await h.call('fs.mkdir', { path: '/srv/demo/linkdir/sub' }), 'E_PATH_ESCAPE');
    assert.equal(await fsp.readFile(path.join(h.outside, 'secret.txt'), 'utf8'), 'top secret\n');
    assert.deepEqual((await fsp.readdir(h.outside)).sort(), ['secret.txt']);
    audited(h.lines, { method: 'fs.writeFile', decision: 'denied', code: 'E_PATH_ESCAPE', path: '/srv/demo/link.txt' });
  });

  it('removes a symlink itself, never its target', async () => {
    await fsp.symlink(path.join(h.outside, 'secret.txt'), h.host('/srv/demo/rmlink'));
    assert.deepEqual(ok(await h.call('fs.remove', { path: '/srv/demo/rmlink' })), { removed: true });
    assert.equal(await fsp.readFile(path.join(h.outside, 'secret.txt'), 'utf8'), 'top secret\n');
  });

  it('follows a symlink that stays inside the grant', async () => {
    await fsp.symlink('app.conf', h.host('/srv/demo/alias.conf'));
    ok(await h.call('fs.readFile', { path: '/srv/demo/alias.conf' }));
  });

  it('refuses a dangling symlink on the way', async () => {
    await fsp.symlink('/nonexistent-dir-for-broker-test', h.host('/srv/demo/dangling'));
    err(await h.call('fs.mkdir', { path: '/srv/demo/dangling/x' }), 'E_PATH_ESCAPE');
  });

  it('refuses oversized writes and reads (E_LIMIT)', async () => {
    err(await h.call('fs.writeFile', { path: '/srv/demo/big', content: 'x'.repeat(2048) }), 'E_LIMIT');
    assert.deepEqual(ok(await h.call('fs.exists', { path: '/srv/demo/big' })), { exists: false });
    await fsp.writeFile(h.host('/srv/demo/bigread'), 'y'.repeat(4096));
    err(await h.call('fs.readFile', { path: '/srv/demo/bigread' }), 'E_LIMIT');
    audited(h.lines, { method: 'fs.writeFile', decision: 'denied', code: 'E_LIMIT', path: '/srv/demo/big' });
  });

  it('refuses setuid modes unless the grant allows special bits', async () => {
    err(await h.call('fs.writeFile', { path: '/srv/demo/s', content: 'x', mode: '4755' }), 'E_SPECIAL_BITS');
    err(await h.call('fs.mkdir', { path: '/srv/demo/sd', mode: 0o1777 }), 'E_SPECIAL_BITS');
    ok(await h.call('fs.writeFile', { path: '/srv/suid/s', content: 'x', mode: '4755' }));
    assert.equal((await fsp.stat(h.host('/srv/suid/s'))).mode & 0o7777, 0o4755);
    audited(h.lines, { method: 'fs.writeFile', decision: 'denied', code: 'E_SPECIAL_BITS', path: '/srv/demo/s' });
  });

  it('reports a missing file as E_NOT_FOUND in the module\'s terms', async () => {
    const e = err(await h.call('fs.readFile', { path: '/srv/demo/missing' }), 'E_NOT_FOUND');
    assert.ok(!e.message.includes(h.root));
    audited(h.lines, { method: 'fs.readFile', decision: 'failed', code: 'E_NOT_FOUND' });
  });
});
