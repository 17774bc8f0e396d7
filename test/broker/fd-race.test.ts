// Races by a local user: a separate process running as "nobody" swaps a folder inside a grant for a symlink to a
// root-only folder, in a loop, while the broker removes, creates, chmods, writes and restores there.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, afterEach, describe, it } from 'node:test';
import type { Reply } from '../../src/sdk/protocol.js';
import { NOBODY, startRacer } from '../helpers/racer.js';
import type { Racer } from '../helpers/racer.js';
import { demoGrant, makeHarness } from './harness.js';
import type { Harness } from './harness.js';

/** Rounds of each race: each round rebuilds the victim and acts on it once while the racer runs. */
const ROUNDS = 150;
const PRECIOUS = 12;

describe('races by an unprivileged local user', () => {
  let h: Harness;
  let precious: string;
  let racer: Racer | undefined;
  let round = 0;
  /** <grant>/victim, owned by nobody, holding sub/ (root's) with files; the racer swaps sub for a link to `precious`. */
  const victim = (): string => h.host('/srv/demo/victim');

  async function rebuild(): Promise<void> {
    // Whatever a round left is moved aside by rename (never followed); the new victim is built where the racer
    // does not look, then renamed into place, so the test itself never writes through the racer's link.
    const n = round++;
    await fsp.rename(victim(), h.host(`/srv/demo/.old-${n}`)).catch(() => undefined);
    const stage = h.host(`/srv/demo/.stage-${n}`);
    await fsp.mkdir(path.join(stage, 'sub'), { recursive: true });
    for (let i = 0; i < 8; i++) await fsp.writeFile(path.join(stage, 'sub', `f${i}`), 'inside\n');
    await fsp.chown(stage, NOBODY, NOBODY);
    await fsp.rename(stage, victim());
  }

  async function preciousIntact(): Promise<void> {
    const names = (await fsp.readdir(precious)).sort();
    assert.deepEqual(names, Array.from({ length: PRECIOUS }, (_, i) => `p${i}`).sort(), 'files of the root-only folder were removed or added');
    for (const n of names) {
      const st = await fsp.stat(path.join(precious, n));
      assert.equal(st.mode & 0o7777, 0o600, `${n} changed mode`);
      assert.equal(st.uid, 0, `${n} changed owner`);
      assert.equal(await fsp.readFile(path.join(precious, n), 'utf8'), 'precious\n', `${n} changed content`);
    }
    const st = await fsp.stat(precious);
    assert.equal(st.mode & 0o7777, 0o700);
    assert.equal(st.uid, 0);
  }

  before(async () => {
    h = await makeHarness({ paths: [demoGrant(['read', 'write', 'chmod', 'chown', 'backup'], { owners: [NOBODY], groups: [NOBODY] })] });
    // the racer must be able to reach its own folder inside the grant
    await fsp.chmod(path.dirname(h.root), 0o755);
    precious = path.join(h.outside, 'precious');
    await fsp.mkdir(precious, { mode: 0o700 });
    for (let i = 0; i < PRECIOUS; i++) await fsp.writeFile(path.join(precious, `p${i}`), 'precious\n', { mode: 0o600 });
  });
  after(() => h.cleanup());
  beforeEach(async () => {
    await rebuild();
    racer = startRacer(victim(), 'sub', precious);
    await racer.ready;
  });
  afterEach(async () => {
    await racer?.stop();
    await preciousIntact();
  });

  const call = (method: string, params: unknown): Promise<Reply> => h.call(method, params);

  it('fs.remove of a tree never follows a folder swapped for a symlink', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      await call('fs.remove', { path: '/srv/demo/victim' });
      await rebuild();
    }
  });

  it('fs.mkdir of nested folders never creates them through a swapped folder', async () => {
    for (let i = 0; i < ROUNDS; i++) await call('fs.mkdir', { path: `/srv/demo/victim/sub/made-${i}/deeper` });
  });

  it('a recursive chmod and chown never act through a swapped folder', async () => {
    for (let i = 0; i < ROUNDS; i++) {
      await call('permissions.set', { targets: [{ path: '/srv/demo/victim', mode: i % 2 === 0 ? 0o777 : 0o755, owner: NOBODY, recursive: true }] });
      await call('permissions.set', { targets: [{ path: '/srv/demo/victim/sub/f1', mode: 0o666 }] });
    }
  });

  it('fs.writeFile never writes through a swapped folder', async () => {
    for (let i = 0; i < ROUNDS; i++) await call('fs.writeFile', { path: `/srv/demo/victim/sub/w${i % 3}`, content: 'loot\n' });
  });

  it('state.restore never writes or creates through a swapped folder', async () => {
    await racer?.stop();
    await rebuild();
    const made = await call('state.backup', { label: 'race', paths: ['/srv/demo/victim'] });
    assert.equal(made.ok, true, JSON.stringify(made));
    racer = startRacer(victim(), 'sub', precious);
    await racer.ready;
    for (let i = 0; i < ROUNDS; i++) await call('state.restore', { label: 'race' });
  });
});
