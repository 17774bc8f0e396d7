// state.backup / restore / list: byte-identical restores with mode and owner, corruption refused, keep-last-N.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BackupInfo } from '../../src/sdk/protocol.js';
import { audited, demoGrant, err, makeHarness, ok } from './harness.js';
import type { Harness } from './harness.js';

async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await fsp.readdir(dir, { recursive: true })).sort()) {
    const p = path.join(dir, name);
    const st = await fsp.lstat(p);
    const content = st.isFile() ? (await fsp.readFile(p)).toString('base64') : '';
    out[name] = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${content}`;
  }
  return out;
}

describe('state backups', () => {
  let h: Harness;
  before(async () => {
    h = await makeHarness({ paths: [demoGrant(['read', 'write', 'backup']), { path: '/srv/other', access: ['read'] }] }, { limits: { backupsKept: 2 } });
    await fsp.mkdir(h.host('/srv/demo/conf/d'), { recursive: true });
    await fsp.writeFile(h.host('/srv/demo/conf/a.conf'), 'alpha\n');
    await fsp.writeFile(h.host('/srv/demo/conf/d/bin'), Buffer.from([0, 1, 2, 255]));
    await fsp.chmod(h.host('/srv/demo/conf/a.conf'), 0o640);
    await fsp.chown(h.host('/srv/demo/conf/a.conf'), 65534, 65534);
    await fsp.chmod(h.host('/srv/demo/conf/d'), 0o700);
  });
  after(() => h.cleanup());

  it('backup → modify → restore gives byte-identical files with mode and owner', async () => {
    const before = await snapshot(h.host('/srv/demo/conf'));
    const info = ok<BackupInfo>(await h.call('state.backup', { label: 'pre-update', paths: ['/srv/demo/conf'] }));
    assert.equal(info.files, 2);
    assert.equal(info.bytes, 10);
    audited(h.lines, { method: 'state.backup', decision: 'allowed', label: 'pre-update', id: info.id });
    await fsp.writeFile(h.host('/srv/demo/conf/a.conf'), 'changed\n');
    await fsp.chown(h.host('/srv/demo/conf/a.conf'), 0, 0);
    await fsp.chmod(h.host('/srv/demo/conf/a.conf'), 0o666);
    await fsp.rm(h.host('/srv/demo/conf/d'), { recursive: true });
    const res = ok<{ id: string; files: number }>(await h.call('state.restore', { label: 'pre-update' }));
    assert.deepEqual(res, { label: 'pre-update', id: info.id, files: 2 });
    assert.deepEqual(await snapshot(h.host('/srv/demo/conf')), before);
    audited(h.lines, { method: 'state.restore', decision: 'allowed', label: 'pre-update' });
  });

  it('refuses a corrupted backup and changes nothing', async () => {
    const info = ok<BackupInfo>(await h.call('state.backup', { label: 'corrupt', paths: ['/srv/demo/conf'] }));
    const stored = path.join(h.stateDir, 'backups/demo/corrupt', info.id, 'files/srv/demo/conf/d/bin');
    await fsp.writeFile(stored, 'tampered');
    await fsp.writeFile(h.host('/srv/demo/conf/a.conf'), 'live\n');
    const live = await snapshot(h.host('/srv/demo/conf'));
    err(await h.call('state.restore', { label: 'corrupt' }), 'E_BACKUP_CORRUPT');
    assert.deepEqual(await snapshot(h.host('/srv/demo/conf')), live);
    await fsp.rm(stored);
    err(await h.call('state.restore', { label: 'corrupt' }), 'E_BACKUP_CORRUPT');
    assert.deepEqual(await snapshot(h.host('/srv/demo/conf')), live);
    audited(h.lines, { method: 'state.restore', decision: 'failed', code: 'E_BACKUP_CORRUPT', label: 'corrupt' });
  });

  it('keeps the last N backups per label and lists them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(ok<BackupInfo>(await h.call('state.backup', { label: 'rot', paths: ['/srv/demo/conf/a.conf'] })).id);
    const onDisk = (await fsp.readdir(path.join(h.stateDir, 'backups/demo/rot'))).sort();
    assert.deepEqual(onDisk, ids.slice(2));
    const listed = ok<{ backups: BackupInfo[] }>(await h.call('state.list', {})).backups.filter((b) => b.label === 'rot');
    assert.deepEqual(listed.map((b) => b.id), ids.slice(2));
    audited(h.lines, { method: 'state.list', decision: 'allowed' });
  });

  it('refuses paths without backup access, unsafe labels, and unknown labels', async () => {
    err(await h.call('state.backup', { label: 'x', paths: ['/srv/other'] }), 'E_UNDECLARED_PATH');
    err(await h.call('state.backup', { label: '../../escape', paths: ['/srv/demo/conf'] }), 'E_BAD_REQUEST');
    err(await h.call('state.restore', { label: '..' }), 'E_BAD_REQUEST');
    err(await h.call('state.restore', { label: 'never' }), 'E_BACKUP_NOT_FOUND');
    audited(h.lines, { method: 'state.backup', decision: 'denied', code: 'E_UNDECLARED_PATH', paths: ['/srv/other'] });
    audited(h.lines, { method: 'state.restore', decision: 'failed', code: 'E_BACKUP_NOT_FOUND' });
  });

  it('re-checks access at restore time', async () => {
    ok(await h.call('state.backup', { label: 'recheck', paths: ['/srv/demo/conf/a.conf'] }));
    // a later run of the same module whose manifest no longer grants "backup" on the path
    const reduced = h.again({ paths: [demoGrant(['read', 'write'])] });
    try {
      err(await reduced.handle({ v: 1, id: 1, method: 'state.restore', params: { label: 'recheck' } }), 'E_UNDECLARED_PATH');
      audited(h.lines, { method: 'state.restore', decision: 'denied', code: 'E_UNDECLARED_PATH', label: 'recheck' });
    } finally {
      reduced.close();
    }
  });
});
