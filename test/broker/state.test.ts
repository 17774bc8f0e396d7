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

  it('orders and prunes backups by their persisted sequence number, never by the clock or the folder names', async () => {
    const labelDir = path.join(h.stateDir, 'backups/demo/skew');
    const first = ok<BackupInfo>(await h.call('state.backup', { label: 'skew', paths: ['/srv/demo/conf/a.conf'] })).id;
    // a backup folder whose name sorts after every numbered one and whose times say "the future": an older format
    // or a clock set ahead must not make it the newest
    const future = path.join(labelDir, 'zzzz-2099-01-01');
    await fsp.cp(path.join(labelDir, first), future, { recursive: true });
    await fsp.utimes(future, new Date('2099-01-01'), new Date('2099-01-01'));
    // the counter file survives the backups it numbered: a lost counter still never reuses a number
    await fsp.rm(path.join(h.stateDir, 'backups/demo/.sequence'));
    await fsp.writeFile(h.host('/srv/demo/conf/a.conf'), 'second\n');
    const second = ok<BackupInfo>(await h.call('state.backup', { label: 'skew', paths: ['/srv/demo/conf/a.conf'] })).id;
    assert.ok(Number(second.split('-')[0]) > Number(first.split('-')[0]), `${second} follows ${first}`);
    assert.match(await fsp.readFile(path.join(h.stateDir, 'backups/demo/.sequence'), 'utf8'), new RegExp(`^${Number(second.split('-')[0])}\n$`));
    // keep = 2: the future-named folder is the oldest by sequence, so it is the one pruned
    assert.deepEqual((await fsp.readdir(labelDir)).sort(), [first, second].sort());
    await fsp.writeFile(h.host('/srv/demo/conf/a.conf'), 'third\n');
    assert.equal(ok<{ id: string }>(await h.call('state.restore', { label: 'skew' })).id, second);
    assert.equal(await fsp.readFile(h.host('/srv/demo/conf/a.conf'), 'utf8'), 'second\n');
  });

  it('caps the bytes of one backup and of all kept backups, counting a sparse file at its full size', async () => {
    await fsp.mkdir(h.host('/srv/demo/big'), { recursive: true });
    const sparse = await fsp.open(h.host('/srv/demo/big/sparse'), 'w');
    await sparse.truncate(64 * 1024 * 1024);
    await sparse.close();
    const capped = h.again(undefined, { limits: { backupsKept: 2, backupMaxBytes: 4096, backupTotalBytes: 6000 } });
    const call = (method: string, params: unknown) => capped.handle({ v: 1, id: 1, method, params });
    const before = await fsp.readdir(h.stateDir, { recursive: true });
    try {
      const e = err(await call('state.backup', { label: 'huge', paths: ['/srv/demo/big'] }), 'E_LIMIT');
      assert.match(e.message, /at most 4096 per backup/);
      assert.deepEqual(await fsp.readdir(h.stateDir, { recursive: true }), before, 'a refused backup leaves nothing');
      await fsp.rm(h.host('/srv/demo/big'), { recursive: true });
      await fsp.mkdir(h.host('/srv/demo/big'));
      await fsp.writeFile(h.host('/srv/demo/big/a'), Buffer.alloc(3000, 1));
      ok(await call('state.backup', { label: 'one', paths: ['/srv/demo/big'] }));
      // 3000 kept + 3000 more is over the 6000-byte total once the earlier backups of this module count too
      const total = err(await call('state.backup', { label: 'two', paths: ['/srv/demo/big'] }), 'E_LIMIT');
      assert.match(total.message, /6000 for all of this module's backups/);
      // a new backup of the same label replaces what pruning will drop, so it fits when keep allows
      const again = h.again(undefined, { limits: { backupsKept: 1, backupMaxBytes: 4096, backupTotalBytes: 1_000_000 } });
      try {
        ok(await again.handle({ v: 1, id: 1, method: 'state.backup', params: { label: 'one', paths: ['/srv/demo/big'] } }));
      } finally {
        again.close();
      }
    } finally {
      capped.close();
      await fsp.rm(h.host('/srv/demo/big'), { recursive: true, force: true });
    }
  });
});
