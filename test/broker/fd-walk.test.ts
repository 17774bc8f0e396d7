// The descriptor walk: symlinks only inside the grant, grant roots, hard links, special files, own files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openAt, writeAt } from '../../src/broker/fd-ops.js';
import { FdWalk } from '../../src/broker/fd-walk.js';
import { Policy } from '../../src/broker/policy.js';
import { loadHostPrincipals } from '../../src/broker/principals.js';
import { UpdatesError } from '../../src/core/errors.js';
import { capabilitiesSchema, pathGrantSchema } from '../../src/core/manifest.js';
import type { Capabilities } from '../../src/core/manifest.js';
import { demoGrant, err, makeHarness, ok } from './harness.js';
import type { Harness } from './harness.js';

const NOBODY = 65534;
const ALL = ['read', 'write', 'chmod', 'chown', 'backup'];
const code = (c: string) => (e: unknown) => e instanceof UpdatesError && e.code === c;

describe('descriptor walk', () => {
  let h: Harness;
  const secret = (): string => path.join(h.outside, 'secret.txt');
  before(async () => {
    h = await makeHarness({
      paths: [
        demoGrant(ALL, { owners: [NOBODY], groups: [NOBODY] }),
        { path: '/srv/site', access: ALL, owners: [NOBODY] },
        { path: '/srv/home/site', access: ALL, owners: [NOBODY] },
      ],
    });
    await fsp.writeFile(h.host('/srv/demo/app.conf'), 'port=1\n');
  });
  after(() => h.cleanup());

  it('follows a symlink only while it stays inside the grant, resolving it itself', async () => {
    await fsp.mkdir(h.host('/srv/demo/d'));
    await fsp.symlink('app.conf', h.host('/srv/demo/alias.conf'));
    await fsp.symlink(h.host('/srv/demo/app.conf'), h.host('/srv/demo/abs.conf'));
    await fsp.symlink('../app.conf', h.host('/srv/demo/d/up.conf'));
    for (const p of ['/srv/demo/alias.conf', '/srv/demo/abs.conf', '/srv/demo/d/up.conf']) {
      assert.deepEqual(ok(await h.call('fs.readFile', { path: p })), { content: 'port=1\n' });
    }
    // a -> . and x -> a/a/a/../../../outside: text that looks inside, a walk that climbs out
    await fsp.symlink('.', h.host('/srv/demo/a'));
    await fsp.symlink(`a/a/a/${'../'.repeat(3)}outside/secret.txt`, h.host('/srv/demo/x'));
    await fsp.symlink('..', h.host('/srv/demo/above'));
    err(await h.call('fs.readFile', { path: '/srv/demo/x' }), 'E_PATH_ESCAPE');
    err(await h.call('fs.writeFile', { path: '/srv/demo/x', content: 'owned' }), 'E_PATH_ESCAPE');
    err(await h.call('fs.readFile', { path: '/srv/demo/above/demo/app.conf' }), 'E_PATH_ESCAPE');
    assert.equal(await fsp.readFile(secret(), 'utf8'), 'top secret\n');
  });

  it('refuses a grant root that is a symlink, whatever the operation', async () => {
    await fsp.symlink(h.outside, h.host('/srv/site'));
    const e = err(await h.call('permissions.set', { targets: [{ path: '/srv/site', owner: NOBODY, recursive: true }] }), 'E_PATH_ESCAPE');
    assert.match(e.message, /grant root \/srv\/site is a symlink/);
    err(await h.call('fs.readFile', { path: '/srv/site/secret.txt' }), 'E_PATH_ESCAPE');
    err(await h.call('state.backup', { label: 'l', paths: ['/srv/site'] }), 'E_PATH_ESCAPE');
    assert.equal((await fsp.stat(secret())).uid, 0);
  });

  it('refuses a grant root below a folder another user can change, naming that folder', async () => {
    await fsp.mkdir(h.host('/srv/home/site'), { recursive: true });
    await fsp.chown(h.host('/srv/home'), NOBODY, NOBODY);
    const e = err(await h.call('fs.writeFile', { path: '/srv/home/site/x', content: 'x' }), 'E_PATH_ESCAPE');
    assert.match(e.message, /the folder \/srv\/home above the grant root can be changed by a user other than root \(owner uid 65534/);
    await fsp.chown(h.host('/srv/home'), 0, 0);
    await fsp.chmod(h.host('/srv/home'), 0o777);
    assert.match(err(await h.call('fs.exists', { path: '/srv/home/site' }), 'E_PATH_ESCAPE').message, /mode 0777/);
    await fsp.chmod(h.host('/srv/home'), 0o755);
    ok(await h.call('fs.writeFile', { path: '/srv/home/site/x', content: 'x' }));
  });

  it('normalises grant spellings before any rule: "/." "/./" "//" are "/", never granted', async () => {
    for (const p of ['/', '/.', '/./', '//', '/./.', '/proc/.', '//proc', '/sys/']) assert.equal(pathGrantSchema.safeParse({ path: p, access: ['read'] }).success, false, p);
    assert.equal(pathGrantSchema.parse({ path: '/srv//demo/./', access: ['read'] }).path, '/srv/demo');
    // a policy given unparsed grants still never matches "/" in any spelling
    const raw = { paths: [{ path: '/.', access: ['read'], owners: [], groups: [], allow_special_bits: false }, { path: '//', access: ['read'], owners: [], groups: [], allow_special_bits: false }], commands: [], services: [] } as Capabilities;
    const policy = new Policy(raw, h.root, () => loadHostPrincipals());
    assert.throws(() => policy.checkPath('fs.readFile', '/etc/passwd', 'read'), code('E_UNDECLARED_PATH'));
  });

  it('refuses a hard link to a file outside for read, chmod, chown and backup; a write replaces the name only', async () => {
    await fsp.link(secret(), h.host('/srv/demo/hl'));
    err(await h.call('fs.readFile', { path: '/srv/demo/hl' }), 'E_PATH_ESCAPE');
    err(await h.call('permissions.set', { targets: [{ path: '/srv/demo/hl', mode: 0o666 }] }), 'E_PATH_ESCAPE');
    err(await h.call('permissions.set', { targets: [{ path: '/srv/demo/hl', owner: NOBODY }] }), 'E_PATH_ESCAPE');
    err(await h.call('state.backup', { label: 'hl', paths: ['/srv/demo/hl'] }), 'E_PATH_ESCAPE');
    const st = await fsp.stat(secret());
    assert.equal(st.mode & 0o777, 0o644);
    assert.equal(st.uid, 0);
    ok(await h.call('fs.writeFile', { path: '/srv/demo/hl', content: 'mine' }));
    assert.equal(await fsp.readFile(secret(), 'utf8'), 'top secret\n');
    await fsp.rm(h.host('/srv/demo/hl'));
  });

  it('skips a hard link inside a tree (chmod -R, backup) and reports it', async () => {
    await fsp.mkdir(h.host('/srv/demo/tree'));
    await fsp.link(secret(), h.host('/srv/demo/tree/hl'));
    ok(await h.call('permissions.set', { targets: [{ path: '/srv/demo/tree', mode: 0o777, recursive: true }] }));
    assert.equal((await fsp.stat(secret())).mode & 0o777, 0o644);
    const info = ok<{ files: number }>(await h.call('state.backup', { label: 'tree', paths: ['/srv/demo/tree'] }));
    assert.equal(info.files, 0);
    await fsp.rm(h.host('/srv/demo/tree'), { recursive: true });
  });

  it('refuses FIFOs, devices and sockets before opening them, without blocking', async () => {
    execFileSync('mkfifo', [h.host('/srv/demo/fifo')]);
    execFileSync('mknod', [h.host('/srv/demo/null'), 'c', '1', '3']);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(h.host('/srv/demo/sock'), resolve));
    try {
      for (const p of ['/srv/demo/fifo', '/srv/demo/null', '/srv/demo/sock']) {
        err(await h.call('fs.readFile', { path: p }), 'E_IO');
        err(await h.call('fs.writeFile', { path: p, content: 'x' }), 'E_IO');
        err(await h.call('permissions.set', { targets: [{ path: p, mode: 0o666 }] }), 'E_BAD_REQUEST');
        err(await h.call('state.backup', { label: 'special', paths: [p] }), 'E_IO');
      }
      assert.equal((await fsp.lstat(h.host('/srv/demo/null'))).mode & 0o777, 0o644);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await fsp.rm(h.host('/srv/demo/fifo'));
      await fsp.rm(h.host('/srv/demo/null'));
    }
  });

  it('refuses a file that gains a second name between the walk and the open', async () => {
    await fsp.writeFile(h.host('/srv/demo/late-link'), 'x');
    const policy = new Policy(capabilitiesSchema.parse({ paths: [demoGrant(ALL)] }), h.root, () => loadHostPrincipals());
    await FdWalk.with(policy.checkPath('permissions.set', '/srv/demo/late-link', 'chmod'), 'permissions.set', undefined, async (w) => {
      const e = await w.resolve({ follow: true });
      await fsp.link(h.host('/srv/demo/late-link'), path.join(h.outside, 'second-name'));
      await assert.rejects(openAt(w, { ...e, stat: undefined }, { file: true, single: true }), code('E_PATH_ESCAPE'));
    });
    await fsp.rm(path.join(h.outside, 'second-name'));
  });

  it('refuses to act in a folder moved out of the grant after it was opened', async () => {
    await fsp.mkdir(h.host('/srv/demo/mv'));
    const policy = new Policy(capabilitiesSchema.parse({ paths: [demoGrant(ALL)] }), h.root, () => loadHostPrincipals());
    await FdWalk.with(policy.checkPath('fs.writeFile', '/srv/demo/mv/f', 'write'), 'fs.writeFile', undefined, async (w) => {
      const e = await w.resolve({ follow: true });
      await fsp.rename(h.host('/srv/demo/mv'), path.join(h.outside, 'moved'));
      await assert.rejects(writeAt(w, e, 'loot', { mode: 0o644 }), code('E_PATH_ESCAPE'));
    });
    assert.deepEqual(await fsp.readdir(path.join(h.outside, 'moved')), []);
  });

  it('stops a tree operation when the run ends', async () => {
    await fsp.mkdir(h.host('/srv/demo/big'));
    for (let i = 0; i < 50; i++) await fsp.writeFile(h.host(`/srv/demo/big/f${i}`), 'x');
    const policy = new Policy(capabilitiesSchema.parse({ paths: [demoGrant(ALL)] }), h.root, () => loadHostPrincipals());
    const ended = new AbortController();
    ended.abort();
    await assert.rejects(FdWalk.with(policy.checkPath('fs.remove', '/srv/demo/big', 'write'), 'fs.remove', ended.signal, async () => undefined), code('E_RUN_ENDED'));
    h.broker.close();
    err(await h.call('fs.remove', { path: '/srv/demo/big' }), 'E_RUN_ENDED');
    assert.equal((await fsp.readdir(h.host('/srv/demo/big'))).length, 50);
  });
});

describe('own files', () => {
  let h: Harness;
  before(async () => {
    h = await makeHarness({
      paths: [
        { path: '/var/lib/updates', access: ALL },
        { path: '/var/lib', access: ['read'] },
        { path: '/srv/repo', access: ALL },
        { path: '/etc/updates', access: ALL },
        { path: '/srv/demo', access: ALL },
      ],
    });
  });
  after(() => h.cleanup());

  it('never reaches the install root, a custom local repository or the allowed-signers file', async () => {
    for (const d of ['/var/lib/updates/state', '/srv/repo/hooks', '/etc/updates']) await fsp.mkdir(h.host(d), { recursive: true });
    await fsp.writeFile(h.host('/var/lib/updates/config.json'), '{}\n');
    await fsp.writeFile(h.host('/etc/updates/allowed_signers'), 'key\n');
    await fsp.link(h.host('/etc/updates/allowed_signers'), h.host('/srv/demo/signers-link'));
    const own = [h.host('/var/lib/updates'), h.host('/srv/repo'), h.host('/etc/updates/allowed_signers')];
    const broker = h.again(undefined, { ownFiles: own });
    const call = (method: string, params: unknown) => broker.handle({ v: 1, id: 1, method, params });
    err(await call('fs.writeFile', { path: '/var/lib/updates/config.json', content: '{"branch":"evil"}' }), 'E_PATH_ESCAPE');
    err(await call('fs.writeFile', { path: '/srv/repo/hooks/post-checkout', content: '#!/bin/sh\nid\n', mode: '755' }), 'E_PATH_ESCAPE');
    err(await call('fs.writeFile', { path: '/etc/updates/allowed_signers', content: 'evil key\n' }), 'E_PATH_ESCAPE');
    err(await call('fs.readFile', { path: '/etc/updates/allowed_signers' }), 'E_PATH_ESCAPE');
    err(await call('permissions.set', { targets: [{ path: '/var/lib', mode: 0o777, recursive: true }] }), 'E_UNDECLARED_PATH');
    err(await call('fs.exists', { path: '/var/lib' }), 'E_PATH_ESCAPE');
    err(await call('fs.readFile', { path: '/srv/demo/signers-link' }), 'E_PATH_ESCAPE');
    ok(await call('fs.writeFile', { path: '/etc/updates/other', content: 'x' }));
    assert.equal(await fsp.readFile(h.host('/var/lib/updates/config.json'), 'utf8'), '{}\n');
    assert.deepEqual(await fsp.readdir(h.host('/srv/repo/hooks')), []);
    assert.equal(await fsp.readFile(h.host('/etc/updates/allowed_signers'), 'utf8'), 'key\n');
  });
});
