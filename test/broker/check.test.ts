// Check mode in the broker: every request goes through the same policy and limits as a real run (check mode is no
// way around a grant), and what would change is planned, never done. Each case compares the disk before and after.
import assert from 'node:assert/strict';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Planner } from '../../src/broker/planner.js';
import { fingerprint } from '../helpers/install-root.js';
import { audited, demoGrant, err, makeHarness, ok } from './harness.js';
import type { Harness } from './harness.js';

describe('check mode broker', () => {
  let h: Harness;
  let plan: Planner;
  let snapshot: () => string;
  before(async () => {
    plan = new Planner(true);
    h = await makeHarness(
      { paths: [demoGrant(['read', 'write', 'chmod', 'backup'])], commands: [['touch', '/tmp/never']], services: ['app'] },
      { limits: { maxFileBytes: 1024 }, plan },
    );
    await fsp.writeFile(h.host('/srv/demo/app.conf'), 'port=1\n', { mode: 0o644 });
    await fsp.mkdir(h.host('/srv/demo/old'));
    await fsp.writeFile(h.host('/srv/demo/old/a.txt'), 'a\n');
    await fsp.symlink(path.join(h.outside, 'secret.txt'), h.host('/srv/demo/escape'));
    snapshot = () => `${fingerprint(path.dirname(h.root), { includeState: true })}`;
  });
  after(() => h.cleanup());

  it('refuses what a real run refuses: undeclared paths, commands and services, symlink escapes, oversized content', async () => {
    const was = snapshot();
    err(await h.call('fs.writeFile', { path: '/etc/passwd', content: 'x' }), 'E_UNDECLARED_PATH');
    err(await h.call('fs.readFile', { path: '/srv/demo/escape' }), 'E_PATH_ESCAPE');
    err(await h.call('fs.writeFile', { path: '/srv/demo/escape', content: 'x' }), 'E_PATH_ESCAPE');
    err(await h.call('exec', { argv: ['touch', '/tmp/other'] }), 'E_UNDECLARED_COMMAND');
    err(await h.call('services.restart', { name: 'sshd' }), 'E_UNDECLARED_SERVICE');
    err(await h.call('fs.writeFile', { path: '/srv/demo/big', content: 'x'.repeat(2048) }), 'E_LIMIT');
    err(await h.call('permissions.set', { targets: [{ path: '/srv/demo/app.conf', mode: '4755' }] }), 'E_SPECIAL_BITS');
    err(await h.call('fs.writeFile', { path: '/srv/demo/missing/dir/f', content: 'x' }), 'E_NOT_FOUND');
    audited(h.lines, { method: 'fs.writeFile', decision: 'denied', code: 'E_UNDECLARED_PATH', check: true });
    assert.equal(snapshot(), was);
  });

  it('plans writes, folders, removals and modes, and later reads see the plan; the disk stays as it was', async () => {
    const was = snapshot();
    assert.deepEqual(ok(await h.call('fs.writeFile', { path: '/srv/demo/app.conf', content: 'port=1\n' })), { changed: false });
    assert.deepEqual(ok(await h.call('fs.writeFile', { path: '/srv/demo/app.conf', content: 'port=2\n' })), { changed: true });
    assert.deepEqual(ok(await h.call('fs.readFile', { path: '/srv/demo/app.conf' })), { content: 'port=2\n' });
    assert.deepEqual(ok(await h.call('fs.mkdir', { path: '/srv/demo/new/sub' })), { created: true });
    assert.deepEqual(ok(await h.call('fs.writeFile', { path: '/srv/demo/new/sub/f.txt', content: 'f\n', mode: '600' })), { changed: true });
    assert.deepEqual(ok(await h.call('fs.exists', { path: '/srv/demo/new/sub/f.txt' })), { exists: true });
    assert.deepEqual(ok(await h.call('permissions.set', { targets: [{ path: '/srv/demo/new/sub/f.txt', mode: '640' }] })), { changed: 1 });
    assert.deepEqual(ok(await h.call('permissions.set', { targets: [{ path: '/srv/demo/app.conf', mode: '644' }] })), { changed: 0 });
    assert.deepEqual(ok(await h.call('fs.remove', { path: '/srv/demo/old' })), { removed: true });
    assert.deepEqual(ok(await h.call('fs.exists', { path: '/srv/demo/old/a.txt' })), { exists: false });
    err(await h.call('fs.readFile', { path: '/srv/demo/old/a.txt' }), 'E_NOT_FOUND');
    assert.deepEqual(ok(await h.call('fs.remove', { path: '/srv/demo/old' })), { removed: false });
    assert.deepEqual(ok(await h.call('fs.remove', { path: '/srv/demo/never-was' })), { removed: false });

    const { changes } = plan.changes;
    const byTarget = (t: string, m: string) => changes.filter((c) => c.target === t && c.method === m).map((c) => c.summary);
    assert.deepEqual(byTarget('/srv/demo/app.conf', 'fs.writeFile'), ['unchanged', 'would change (1 line)']);
    assert.match(changes.find((c) => c.summary === 'would change (1 line)')?.diff ?? '', /^--- a\/srv\/demo\/app\.conf\n\+\+\+ b\/srv\/demo\/app\.conf\n@@ -1,1 \+1,1 @@\n-port=1\n\+port=2\n$/);
    assert.deepEqual(byTarget('/srv/demo/new/sub/f.txt', 'fs.writeFile'), ['would create (0600, 1 line)']);
    assert.deepEqual(byTarget('/srv/demo/new/sub/f.txt', 'permissions.set'), ['would set mode 0600 → 0640']);
    assert.deepEqual(byTarget('/srv/demo/app.conf', 'permissions.set'), ['unchanged']);
    assert.deepEqual(byTarget('/srv/demo/old', 'fs.remove'), ['would remove the folder and everything in it']);
    assert.equal(snapshot(), was);
    assert.equal(await fsp.readFile(h.host('/srv/demo/app.conf'), 'utf8'), 'port=1\n');
  });

  it('reports what a recursive permissions.set would change below a folder, walking it as the real call does', async () => {
    await fsp.mkdir(h.host('/srv/demo/tree'), { mode: 0o755 });
    await fsp.chmod(h.host('/srv/demo/tree'), 0o755);
    await fsp.writeFile(h.host('/srv/demo/tree/a'), 'a', { mode: 0o644 });
    await fsp.writeFile(h.host('/srv/demo/tree/b'), 'b');
    await fsp.chmod(h.host('/srv/demo/tree/b'), 0o750);
    await fsp.symlink('/etc/passwd', h.host('/srv/demo/tree/link'));
    const was = snapshot();
    assert.deepEqual(ok(await h.call('permissions.set', { targets: [{ path: '/srv/demo/tree', mode: '750', recursive: true }] })), { changed: 1 });
    assert.equal(plan.changes.changes.at(-1)?.summary, 'would set mode 0750 on 2 of 3 entries; 1 symlink(s), special file(s) or hard link(s) would be skipped');
    assert.equal(snapshot(), was);
  });

  it('never reads a hard-linked file for its diff (it may be a file outside the grant), yet plans the write as a real run makes it', async () => {
    await fsp.link(path.join(h.outside, 'secret.txt'), h.host('/srv/demo/linked'));
    assert.deepEqual(ok(await h.call('fs.writeFile', { path: '/srv/demo/linked', content: 'new\n' })), { changed: true });
    const last = plan.changes.changes.at(-1);
    assert.equal(last?.summary, 'would replace (1 line); the file has more than one name, so it was not read or diffed');
    assert.equal(last?.diff, undefined);
    assert.ok(!JSON.stringify(plan.changes).includes('top secret'));
    assert.equal(await fsp.readFile(path.join(h.outside, 'secret.txt'), 'utf8'), 'top secret\n');
  });

  it('plans commands, services, backups and store changes without running, touching or writing any', async () => {
    const was = snapshot();
    assert.deepEqual(ok(await h.call('exec', { argv: ['touch', '/tmp/never'] })), { exitCode: 0, stdout: '', stderr: '', timedOut: false, planned: true });
    assert.equal(existsSync('/tmp/never'), false);
    assert.deepEqual(ok(await h.call('services.restart', { name: 'app' })), { name: 'app', active: true, state: 'planned', planned: true });
    assert.equal(existsSync(h.servicesFile), false, 'the service backend was not asked');
    const info = ok<{ id: string; planned: boolean }>(await h.call('state.backup', { label: 'pre', paths: ['/srv/demo/app.conf'] }));
    assert.deepEqual([info.id, info.planned], ['planned', true]);
    err(await h.call('state.restore', { label: 'pre' }), 'E_BACKUP_NOT_FOUND');
    assert.equal(ok(await h.call('store.set', { key: 'k', value: { n: 1 } })), null);
    assert.deepEqual(ok(await h.call('store.get', { key: 'k' })), { value: { n: 1 } });
    assert.deepEqual(ok(await h.call('store.keys', {})), { keys: ['k'] });
    assert.deepEqual(ok(await h.call('store.delete', { key: 'k' })), { deleted: true });
    assert.deepEqual(ok(await h.call('store.keys', {})), { keys: [] });
    const summaries = plan.changes.changes.slice(-5).map((c) => `${c.method} ${c.target}: ${c.summary}`);
    assert.deepEqual(summaries, [
      'exec touch /tmp/never: would run',
      'services.restart app: would restart',
      'state.backup pre: would back up /srv/demo/app.conf',
      'store.set k: would add the key',
      'store.delete k: would delete the key',
    ]);
    assert.equal(snapshot(), was, 'no store file, backup or service record');
  });
});

describe('check mode bounds what it holds for a module', () => {
  it('refuses planned content past its memory budget instead of growing the orchestrator without end', async () => {
    const plan = new Planner(false);
    const h = await makeHarness({ paths: [demoGrant(['read', 'write'])] }, { plan });
    try {
      const content = 'x'.repeat(4 * 1024 * 1024);
      let refused: number | undefined;
      for (let i = 0; i < 40 && refused === undefined; i++) {
        const r = await h.call('fs.writeFile', { path: `/srv/demo/f${i}`, content });
        if (!r.ok) {
          err(r, 'E_LIMIT');
          refused = i;
        }
      }
      assert.equal(refused, 16, 'the 17th 4 MiB file is past the 64 MiB budget');
      // a planned file removed, or written again, gives its bytes back to the budget
      assert.deepEqual(ok(await h.call('fs.remove', { path: '/srv/demo/f0' })), { removed: true });
      assert.deepEqual(ok(await h.call('fs.writeFile', { path: '/srv/demo/f16', content })), { changed: true });
      assert.deepEqual(ok(await h.call('fs.writeFile', { path: '/srv/demo/f1', content: 'small' })), { changed: true });
      assert.deepEqual(ok(await h.call('fs.writeFile', { path: '/srv/demo/f17', content: content.slice(1024) })), { changed: true });
      assert.deepEqual(await fsp.readdir(h.host('/srv/demo')), []);
    } finally {
      await h.cleanup();
    }
  });
});
