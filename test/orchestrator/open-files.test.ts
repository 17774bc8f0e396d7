// A module of 10,000 files installs in a process allowed only 1024 open files (the usual soft limit under systemd).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { PROJECT } from '../helpers/run.js';

const FILES = 10_000;

test(`a module of ${FILES} files installs under ulimit -n 1024`, { timeout: 600_000 }, async () => {
  const files: Record<string, string> = { ...rootIndex(), ...moduleFiles('many', { version: '1.0.0' }) };
  for (let i = 0; i < FILES; i++) files[`modules/many/data/${Math.floor(i / 100)}/f${i}.txt`] = `file ${i}\n`;
  const repo = makeRepo(files);
  const root = tempDir();
  // The limit is set in the shell that then becomes node: the install runs under it.
  const script = `ulimit -n 1024 && exec "${process.execPath}" --import tsx test/helpers/crash-runner.ts "${root}" "${repo.url}" none none`;
  const child = spawn('bash', ['-c', script], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, err);
  assert.deepEqual(JSON.parse(out), { exitCode: 0, reachedEnd: true }, err);
  assert.deepEqual(liveVersions(root), { many: '1.0.0' });
  const live = path.join(root, 'modules', 'many', 'data');
  assert.equal(readdirSync(live).reduce((n, d) => n + readdirSync(path.join(live, d)).length, 0), FILES);
});
