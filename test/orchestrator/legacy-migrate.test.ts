// `migrate-legacy`: per-module index.json written from manifest.json, never over a different one; checksums follow.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { folderChecksum } from '../../src/orchestrator/legacy/checksum.js';
import { migrateLegacy } from '../../src/orchestrator/legacy/migrate.js';
import { runLegacy } from '../../src/orchestrator/legacy/run.js';
import { silentLogger } from '../../src/core/logger.js';
import { parseModuleManifest } from '../../src/core/manifest.js';
import { makeLegacyInstall } from '../fixtures/legacy/install.js';
import { tempDir } from '../helpers/repo.js';

const ok = (name: string) => ({ files: { 'index.ts': `export async function main() { return { success: true, message: '${name}' }; }\n` } });
const manifestOf = (install: string) => JSON.parse(readFileSync(path.join(install, 'manifest.json'), 'utf8')) as { updates: Record<string, unknown>[] };
const migrate = (install: string) => migrateLegacy({ installRoot: install, wait: false, logger: silentLogger() });

test('each entry gets an index.json that parseModuleManifest accepts, in its live folder', async () => {
  const install = tempDir('uo-migrate');
  await makeLegacyInstall(install, { adblock: ok('adblock'), gogs: { ...ok('gogs'), enabled: false, version: '2.3.1' } }, ['adblock', 'gogs']);
  const report = await migrate(install);
  assert.equal(report.exitCode, 0, JSON.stringify(report));
  assert.deepEqual(report.entries.map((e) => [e.module, e.status]), [['adblock', 'written'], ['gogs', 'written'], ['all_services', 'skipped']]);
  for (const [name, version, enabled] of [['adblock', '1.0.0', true], ['gogs', '2.3.1', false]] as const) {
    const file = path.join(install, '.versions', name, version, 'index.json');
    const parsed = parseModuleManifest(readFileSync(file, 'utf8'), name);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
    assert.deepEqual(
      { v: parsed.manifest.metadata.schema_version, n: parsed.manifest.metadata.name, d: parsed.manifest.metadata.description, e: parsed.manifest.metadata.enabled },
      { v: version, n: name, d: `legacy module ${name}`, e: enabled },
    );
  }
});

test('the checksums follow the written index.json, so legacy mode still runs the migrated modules', async () => {
  const install = tempDir('uo-migrate');
  await makeLegacyInstall(install, { adblock: ok('adblock') }, ['adblock']);
  const report = await migrate(install);
  assert.equal(report.entries[0]?.checksum, 'updated');
  const entry = manifestOf(install).updates[0];
  assert.equal(entry?.['checksum'], await folderChecksum(path.join(install, 'modules', 'adblock')));
  assert.equal(entry?.['description'], 'legacy module adblock', 'other fields kept');
  const run = await runLegacy({ installRoot: install, root: tempDir('uo-migrate-root'), wait: false, orchestratorVersion: '0', logger: silentLogger(), services: 'record', poolSize: 1 });
  assert.equal(run.exitCode, 0, JSON.stringify(run.modules));
});

test('an existing index.json is never overwritten: kept when it agrees, a named conflict when it differs', async () => {
  const install = tempDir('uo-migrate');
  await makeLegacyInstall(install, { same: ok('same'), other: ok('other'), junk: ok('junk'), tampered: ok('tampered') }, ['same']);
  const agree = `${JSON.stringify({ metadata: { schema_version: '1.0.0', description: 'legacy module same', enabled: true }, capabilities: { services: ['same'] } })}\n`;
  const differ = `${JSON.stringify({ metadata: { schema_version: '3.0.0', description: 'mine', enabled: true } })}\n`;
  writeFileSync(path.join(install, 'modules', 'same', 'index.json'), agree);
  writeFileSync(path.join(install, 'modules', 'other', 'index.json'), differ);
  writeFileSync(path.join(install, 'modules', 'junk', 'index.json'), '{ not json');
  writeFileSync(path.join(install, 'modules', 'tampered', 'extra.txt'), 'added after the checksum\n');
  const sumsBefore = manifestOf(install).updates.map((u) => u['checksum']);
  const report = await migrate(install);
  assert.equal(report.exitCode, 1);
  const byName = Object.fromEntries(report.entries.map((e) => [e.module, e]));
  assert.equal(byName['same']?.status, 'kept');
  assert.equal(byName['other']?.status, 'conflict');
  assert.match(byName['other']?.message ?? '', /differs in schema_version \(3\.0\.0 ≠ 1\.0\.0\), description; left as it is/);
  assert.equal(byName['junk']?.status, 'conflict');
  assert.match(byName['junk']?.message ?? '', /invalid .*not valid JSON/);
  assert.equal(readFileSync(path.join(install, 'modules', 'same', 'index.json'), 'utf8'), agree);
  assert.equal(readFileSync(path.join(install, 'modules', 'other', 'index.json'), 'utf8'), differ);
  assert.equal(byName['tampered']?.status, 'written');
  assert.equal(byName['tampered']?.checksum, 'unverified');
  assert.deepEqual(manifestOf(install).updates.map((u) => u['checksum']), sumsBefore, 'no checksum moved: none of these was written over a verified folder');
});

test('entries without a version or a folder are reported and nothing is created for them', async () => {
  const install = tempDir('uo-migrate');
  await makeLegacyInstall(install, { real: ok('real') }, ['real']);
  const m = manifestOf(install);
  m.updates.push({ name: 'ghost', version: '1.0.0', checksum: null, enabled: true }, { name: 'unversioned', version: null, checksum: null, enabled: true });
  writeFileSync(path.join(install, 'manifest.json'), JSON.stringify(m));
  mkdirSync(path.join(install, 'modules', 'unversioned'));
  const report = await migrate(install);
  assert.equal(report.exitCode, 0);
  const byName = Object.fromEntries(report.entries.map((e) => [e.module, e]));
  assert.equal(byName['ghost']?.status, 'missing');
  assert.equal(byName['unversioned']?.status, 'skipped');
  assert.match(byName['unversioned']?.message ?? '', /no semantic version/);
  assert.equal(existsSync(path.join(install, 'modules', 'ghost')), false);
  assert.equal(existsSync(path.join(install, 'modules', 'unversioned', 'index.json')), false);
});
