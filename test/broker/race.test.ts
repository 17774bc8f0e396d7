// Swap-after-check: a path checked clean, then replaced by a symlink before the fs layer acts on it.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyOwnership, readChecked, writeAtomicChecked } from '../../src/broker/fs-ops.js';
import type { CheckedPath } from '../../src/broker/paths.js';
import { Policy } from '../../src/broker/policy.js';
import { loadHostPrincipals } from '../../src/broker/principals.js';
import { UpdatesError } from '../../src/core/errors.js';
import { capabilitiesSchema } from '../../src/core/manifest.js';
import { makeHarness } from './harness.js';
import type { Harness } from './harness.js';

const code = (c: string) => (e: unknown) => e instanceof UpdatesError && e.code === c;

describe('swap after check', () => {
  let h: Harness;
  let policy: Policy;
  before(async () => {
    h = await makeHarness({});
    const caps = capabilitiesSchema.parse({ paths: [{ path: '/srv/demo', access: ['read', 'write', 'chmod'] }] });
    policy = new Policy(caps, h.root, () => loadHostPrincipals());
  });
  after(() => h.cleanup());

  const secret = () => path.join(h.outside, 'secret.txt');

  it('O_NOFOLLOW refuses a final component swapped for a symlink (read)', async () => {
    await fsp.writeFile(h.host('/srv/demo/a.txt'), 'a');
    const checked = await policy.checkPath('fs.readFile', '/srv/demo/a.txt', 'read');
    await fsp.rm(h.host('/srv/demo/a.txt'));
    await fsp.symlink(secret(), h.host('/srv/demo/a.txt'));
    await assert.rejects(readChecked(checked, 1e6, 'fs.readFile'), code('E_PATH_ESCAPE'));
  });

  it('a chmod through a swapped final component is refused and the outside file keeps its mode', async () => {
    await fsp.writeFile(h.host('/srv/demo/m.txt'), 'm');
    const before = (await fsp.stat(secret())).mode;
    const checked = await policy.checkPath('permissions.set', '/srv/demo/m.txt', 'chmod');
    await fsp.rm(h.host('/srv/demo/m.txt'));
    await fsp.symlink(secret(), h.host('/srv/demo/m.txt'));
    await assert.rejects(applyOwnership(checked, { mode: 0o777 }, 'permissions.set'), code('E_PATH_ESCAPE'));
    assert.equal((await fsp.stat(secret())).mode, before);
  });

  it('an atomic write replaces a swapped-in symlink instead of writing through it', async () => {
    await fsp.writeFile(h.host('/srv/demo/w.txt'), 'w');
    const checked = await policy.checkPath('fs.writeFile', '/srv/demo/w.txt', 'write');
    await fsp.rm(h.host('/srv/demo/w.txt'));
    await fsp.symlink(secret(), h.host('/srv/demo/w.txt'));
    await writeAtomicChecked(checked, 'new', { mode: 0o644 }, 'fs.writeFile');
    assert.equal(await fsp.readFile(secret(), 'utf8'), 'top secret\n');
    assert.ok((await fsp.lstat(h.host('/srv/demo/w.txt'))).isFile());
  });

  it('a folder on the way swapped for a symlink is caught by verifying the descriptor', async () => {
    await fsp.mkdir(h.host('/srv/demo/sub'));
    await fsp.writeFile(h.host('/srv/demo/sub/secret.txt'), 'inside');
    const checked = await policy.checkPath('fs.readFile', '/srv/demo/sub/secret.txt', 'read');
    await fsp.rename(h.host('/srv/demo/sub'), h.host('/srv/demo/sub-old'));
    await fsp.symlink(h.outside, h.host('/srv/demo/sub'));
    await assert.rejects(readChecked(checked, 1e6, 'fs.readFile'), code('E_PATH_ESCAPE'));
    await assert.rejects(writeAtomicChecked(checked, 'x', { mode: 0o644 }, 'fs.writeFile'), code('E_PATH_ESCAPE'));
    assert.equal(await fsp.readFile(secret(), 'utf8'), 'top secret\n');
    assert.deepEqual((await fsp.readdir(h.outside)).sort(), ['secret.txt']);
  });

  it('the fs layer refuses a forged CheckedPath', async () => {
    const forged = { view: '/srv/demo/x', host: secret(), realRoot: '/', grant: {} } as unknown as CheckedPath;
    await assert.rejects(readChecked(forged, 1e6, 'fs.readFile'), code('E_INTERNAL'));
  });
});
