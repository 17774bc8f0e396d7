// Settings layers: defaults < <install root>/config.json < flags; an invalid file is a configuration error.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readConfigFile, resolveSettings } from '../../src/cli/settings.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runCli } from '../helpers/run.js';

function rootWithConfig(config: unknown): string {
  const root = tempDir();
  mkdirSync(root, { recursive: true });
  writeFileSync(path.join(root, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return root;
}

test('config.json supplies settings, flags override them, defaults fill the rest', async () => {
  const root = rootWithConfig({ repo_url: 'file:///from-config', branch: 'stable', services: 'record', pool_size: 3 });
  const file = await readConfigFile(root);
  const s = await resolveSettings(file, { branch: 'from-flag' });
  assert.equal(s.repoUrl, 'file:///from-config');
  assert.equal(s.branch, 'from-flag');
  assert.equal(s.services, 'record');
  assert.equal(s.poolSize, 3);
  assert.equal(s.requireSigned, false);
});

test('a missing default config file is fine; a missing --config file is an error', async () => {
  assert.deepEqual(await readConfigFile(tempDir()), {});
  await assert.rejects(readConfigFile(tempDir(), '/nonexistent/config.json'), { code: 'E_CONFIG' });
});

test('an invalid config.json is a configuration error naming the field: exit 2, nothing runs', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = rootWithConfig({ repo_url: repo.url, pool_size: 'many', colour: 'blue' });
  const r = await runCli(['--modules-path', root]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /config\.json is invalid: .*pool_size/);
  const notJson = rootWithConfig('{ repo_url: ');
  const r2 = await runCli(['--modules-path', notJson]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /not valid JSON/);
});

test('the repository URL can come from config.json alone', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = rootWithConfig({ repo_url: repo.url, services: 'record' });
  const r = await runCli(['--modules-path', root, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { repository: { url: string } }).repository.url, repo.url);
});
