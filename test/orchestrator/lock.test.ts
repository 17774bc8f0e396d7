// The run lock against strangers and aliases: a local user's connection never affects the holder, and the same
// install root reached through a symlink is the same lock.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { UpdatesError } from '../../src/core/errors.js';
import { acquireLock, lockName, queryHolder } from '../../src/orchestrator/lock.js';
import { tempDir } from '../helpers/repo.js';
import { PROJECT } from '../helpers/run.js';

/** What a local user can do with a name read from /proc/net/unix: connect and drop the connection at once, 20 times. */
const STRANGER = `
const net = require('node:net');
const name = '\\0' + process.argv[1];
let n = 0;
const next = () => {
  if (n++ === 20) return console.log('done as uid ' + process.getuid());
  const s = net.connect(name, () => s.destroy());
  s.on('close', next);
  s.on('error', () => undefined);
};
next();`;

test('a stranger (nobody) connecting to the lock and dropping the connection never affects its holder', async () => {
  const root = tempDir('uo-lock');
  const holder = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/hold-lock.ts', root], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  holder.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    await once(holder.stdout, 'data');
    const name = await lockName(root);
    const stranger = spawnSync(process.execPath, ['-e', STRANGER, name.slice(1)], { uid: 65534, gid: 65534, encoding: 'utf8' });
    assert.equal(stranger.stdout.trim(), 'done as uid 65534', stranger.stderr);
    // The holder answers in order of connection: once it answers this one, it has dealt with every stranger's.
    const answer = await queryHolder(name);
    assert.equal(answer?.pid, holder.pid, `the holder still holds the lock (its stderr: ${stderr})`);
    assert.equal(holder.exitCode, null, 'the holder is alive');
    await assert.rejects(acquireLock(root), (err: unknown) => err instanceof UpdatesError && err.code === 'E_LOCKED');
  } finally {
    holder.kill('SIGKILL');
  }
});

test('the same install root through a symlink is the same lock', async () => {
  const base = tempDir('uo-lock');
  const real = path.join(base, 'real');
  mkdirSync(real);
  symlinkSync(real, path.join(base, 'alias'));
  symlinkSync(base, path.join(base, 'base-alias'));
  const lock = await acquireLock(real);
  try {
    for (const alias of [path.join(base, 'alias'), path.join(base, 'base-alias', 'alias'), path.join(base, 'base-alias', 'real')]) {
      await assert.rejects(acquireLock(alias), (err: unknown) => err instanceof UpdatesError && err.code === 'E_LOCKED', alias);
    }
  } finally {
    await lock.release();
  }
  const again = await acquireLock(path.join(base, 'alias'));
  await assert.rejects(acquireLock(real), (err: unknown) => err instanceof UpdatesError && err.code === 'E_LOCKED');
  await again.release();
});
