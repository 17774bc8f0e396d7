// The orchestrator has one version: the root index.json's schema_version, which package.json must repeat.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { orchestratorVersion, versionMismatch } from '../../src/orchestrator/version.js';
import { tempDir } from '../helpers/repo.js';
import { PROJECT, runCli } from '../helpers/run.js';

test("package.json's version equals the root index.json's schema_version", () => {
  const pkg = JSON.parse(readFileSync(path.join(PROJECT, 'package.json'), 'utf8')) as { version: string };
  const idx = JSON.parse(readFileSync(path.join(PROJECT, 'index.json'), 'utf8')) as { metadata: { schema_version: string } };
  assert.equal(pkg.version, idx.metadata.schema_version, 'bump both files together');
  assert.equal(versionMismatch(PROJECT), undefined);
  assert.equal(orchestratorVersion(), idx.metadata.schema_version);
});

test('two disagreeing versions are named with the file to fix', () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ version: '0.1.0' }));
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ metadata: { schema_version: '0.2.0' } }));
  assert.match(versionMismatch(dir) ?? '', /package\.json has version 0\.1\.0 .* is 0\.2\.0; set "version": "0\.2\.0" in package\.json/);
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ metadata: {} }));
  assert.match(versionMismatch(dir) ?? '', /index\.json has no metadata\.schema_version/);
});

test('--version and the self-test report the root index.json version', async () => {
  const idx = JSON.parse(readFileSync(path.join(PROJECT, 'index.json'), 'utf8')) as { metadata: { schema_version: string } };
  const v = await runCli(['--version', '--modules-path', tempDir()]);
  assert.equal(v.stdout.trim(), idx.metadata.schema_version);
});
