// Legacy mode end to end: a real install root in a temp folder, real sandbox workers and brokers, real files.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { acquireLock } from '../../src/orchestrator/lock.js';
import { runLegacy } from '../../src/orchestrator/legacy/run.js';
import type { LegacyRunOptions } from '../../src/orchestrator/legacy/run.js';
import { silentLogger } from '../../src/core/logger.js';
import { bundleModule } from '../../src/sandbox/build/bundle.js';
import { makeLegacyInstall, tracingModule } from '../fixtures/legacy/install.js';
import { tempDir } from '../helpers/repo.js';

/** A root for module paths (/trace maps to <root>/trace) and an install root inside it. */
function setup(): { root: string; install: string; order: () => string[] } {
  const root = tempDir('uo-legacy');
  const install = path.join(root, 'install');
  mkdirSync(path.join(root, 'trace'), { recursive: true });
  mkdirSync(install);
  const file = path.join(root, 'trace', 'order.txt');
  return { root, install, order: () => (existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n') : []) };
}

const options = (root: string, install: string): LegacyRunOptions => ({
  installRoot: install, root, wait: false, orchestratorVersion: '0.0.0-test', logger: silentLogger(), services: 'record', poolSize: 2,
});

/** Reaches the sandbox only through the SDK; with no index.json it may do nothing, and says what it was told. */
const undeclared = {
  files: {
    'index.ts': [
      "import { fs } from 'updates-orchestrator/sdk';",
      'export async function main() {',
      "  try { await fs.writeFile('/trace/order.txt', 'hijacked\\n'); return { success: true, message: 'written' }; }",
      '  catch (err) { return { success: true, message: (err as { code: string }).code }; }',
      '}',
      '',
    ].join('\n'),
  },
};

const readManifest = (install: string) => JSON.parse(readFileSync(path.join(install, 'manifest.json'), 'utf8')) as { updates: Record<string, unknown>[] } & Record<string, unknown>;

test('the children of the entrypoint run in the manifest\'s order, in the sandbox, each with its own capabilities', async () => {
  const { root, install, order } = setup();
  await makeLegacyInstall(install, { alpha: tracingModule('alpha'), beta: tracingModule('beta'), gamma: tracingModule('gamma'), plain: undeclared }, ['gamma', 'alpha', 'plain', 'beta']);
  const report = await runLegacy(options(root, install));
  assert.equal(report.exitCode, 0, JSON.stringify(report, null, 2));
  assert.deepEqual(order(), ['gamma', 'alpha', 'beta']);
  assert.deepEqual(report.modules.map((m) => [m.module, m.status]), [['gamma', 'ok'], ['alpha', 'ok'], ['plain', 'ok'], ['beta', 'ok']]);
  assert.equal(report.modules[2]?.message, 'E_UNDECLARED_PATH', 'a child without index.json has no capabilities');
  assert.deepEqual(report.updates, []);
  assert.equal(report.legacy.entrypoint, 'all_services');
  const saved = JSON.parse(readFileSync(path.join(install, 'state', 'last-run.json'), 'utf8')) as { exitCode: number; modules: unknown[] };
  assert.equal(saved.exitCode, 0);
  assert.equal(saved.modules.length, 4);
});

test('a tampered child is refused and named, exit 1, while the others run', async () => {
  const { root, install, order } = setup();
  await makeLegacyInstall(install, { alpha: tracingModule('alpha'), beta: tracingModule('beta'), gamma: tracingModule('gamma') }, ['alpha', 'beta', 'gamma']);
  appendFileSync(path.join(install, 'modules', 'beta', 'index.ts'), '// changed after its checksum was written\n');
  const report = await runLegacy(options(root, install));
  assert.equal(report.exitCode, 1);
  assert.deepEqual(order(), ['alpha', 'gamma']);
  const beta = report.modules.find((m) => m.module === 'beta');
  assert.equal(beta?.status, 'failed');
  assert.match(beta?.message ?? '', /module "beta": checksum mismatch: manifest\.json expects sha256:[0-9a-f]{64}, the installed folder is sha256:[0-9a-f]{64}/);
  assert.deepEqual(report.modules.map((m) => [m.module, m.status]), [['alpha', 'ok'], ['beta', 'failed'], ['gamma', 'ok']]);
});

test('disabled, unlisted, uninstalled and unverified children do not run; each is reported by name', async () => {
  const { root, install, order } = setup();
  await makeLegacyInstall(install, { alpha: tracingModule('alpha'), off: { ...tracingModule('off'), enabled: false } }, ['off', 'ghost', 'alpha']);
  const m = readManifest(install);
  m.updates.push({ name: 'absent', version: '1.0.0', lastSafeVersion: '1.0.0', checksum: `sha256:${'0'.repeat(64)}`, lastApplied: null, enabled: true, description: '' });
  m.updates.push({ name: 'nosum', version: '1.0.0', checksum: null, enabled: true });
  (m.updates.find((u) => u.name === 'all_services') as { children: string[] }).children.push('absent', 'nosum');
  writeFileSync(path.join(install, 'manifest.json'), JSON.stringify(m));
  const report = await runLegacy(options(root, install));
  assert.equal(report.exitCode, 1);
  assert.deepEqual(order(), ['alpha']);
  const byName = Object.fromEntries(report.modules.map((e) => [e.module, e]));
  assert.equal(byName['off']?.status, 'disabled');
  assert.match(byName['ghost']?.message ?? '', /module "ghost": child of the entrypoint "all_services" is not an entry of updates/);
  assert.match(byName['absent']?.message ?? '', /module "absent": is not installed: modules\/absent does not exist/);
  assert.match(byName['nosum']?.message ?? '', /module "nosum": has no checksum in manifest\.json/);
});

test('lastApplied is recorded for the children that succeeded; every other field stays as it was', async () => {
  const { root, install } = setup();
  const failing = { files: { 'index.ts': "export async function main() { return { success: false, message: 'nope' }; }\n" } };
  await makeLegacyInstall(install, { alpha: tracingModule('alpha'), broken: failing, off: { ...tracingModule('off'), enabled: false } }, ['alpha', 'broken', 'off']);
  const before = readManifest(install);
  before['comment'] = 'kept as is';
  (before.updates[0] as Record<string, unknown>)['args'] = ['--fast', { nested: [1, 2] }];
  writeFileSync(path.join(install, 'manifest.json'), `${JSON.stringify(before, null, '\t')}\n`);
  const report = await runLegacy(options(root, install));
  assert.equal(report.exitCode, 1);
  assert.deepEqual(report.modules.map((e) => [e.module, e.status]), [['alpha', 'ok'], ['broken', 'failed'], ['off', 'disabled']]);
  const text = readFileSync(path.join(install, 'manifest.json'), 'utf8');
  assert.match(text, /^\{\n\t"updates"/, 'indentation kept');
  const after = JSON.parse(text) as typeof before;
  const stamp = after.updates[0]?.['lastApplied'];
  assert.equal(typeof stamp, 'string');
  assert.equal(new Date(String(stamp)).toISOString(), stamp);
  const expected = structuredClone(before);
  (expected.updates[0] as Record<string, unknown>)['lastApplied'] = stamp;
  assert.deepEqual(after, expected);
});

test('an invalid manifest.json is a clear error naming the field; nothing runs; the report is saved', async () => {
  const { root, install, order } = setup();
  await makeLegacyInstall(install, { alpha: tracingModule('alpha') }, ['alpha']);
  const m = readManifest(install);
  (m.updates[0] as Record<string, unknown>)['checksum'] = 'sha1:abc';
  writeFileSync(path.join(install, 'manifest.json'), JSON.stringify(m));
  const report = await runLegacy(options(root, install));
  assert.equal(report.exitCode, 1);
  assert.deepEqual(order(), []);
  assert.match(report.errors[0]?.message ?? '', /manifest\.json is invalid: updates\[0\] \("alpha"\)\.checksum/);
  assert.equal(report.phase2, 'not-run');
  assert.ok(existsSync(path.join(install, 'state', 'last-run.json')));
});

test('a missing manifest.json says legacy mode needs one', async () => {
  const { root, install } = setup();
  const report = await runLegacy(options(root, install));
  assert.equal(report.exitCode, 1);
  assert.match(report.errors[0]?.message ?? '', /manifest\.json is invalid: cannot be read \(ENOENT\); legacy mode needs the seed's manifest/);
});

test('a child\'s built .updates/bundle.cjs is used when present; it is covered by the checksum', async () => {
  const { root, install } = setup();
  const src = tempDir('uo-legacy-src');
  writeFileSync(path.join(src, 'index.ts'), "export async function main() { return { success: true, message: 'from the bundle' }; }\n");
  const bundle = await bundleModule(src, 'built');
  const source = "export async function main() { return { success: true, message: 'from the sources' }; }\n";
  await makeLegacyInstall(install, { built: { files: { 'index.ts': source, '.updates/bundle.cjs': bundle } }, fresh: { files: { 'index.ts': source } } }, ['built', 'fresh']);
  const report = await runLegacy(options(root, install));
  assert.equal(report.exitCode, 0, JSON.stringify(report.modules));
  assert.deepEqual(report.modules.map((m) => [m.module, m.message]), [['built', 'from the bundle'], ['fresh', 'from the sources']]);
  appendFileSync(path.join(install, 'modules', 'built', '.updates', 'bundle.cjs'), '\n');
  const again = await runLegacy(options(root, install));
  assert.match(again.modules[0]?.message ?? '', /module "built": checksum mismatch/);
});

test('a legacy run takes the run lock: a second one is refused with E_LOCKED', async () => {
  const { root, install } = setup();
  await makeLegacyInstall(install, { alpha: tracingModule('alpha') }, ['alpha']);
  const lock = await acquireLock(install);
  try {
    await assert.rejects(runLegacy(options(root, install)), (err: Error & { code?: string }) => err.code === 'E_LOCKED');
  } finally {
    await lock.release();
  }
});
