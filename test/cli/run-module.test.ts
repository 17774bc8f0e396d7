// The CLI's local modes: `updates run-module DIR` (module authors run one module, sandboxed, capabilities
// enforced) and `updates --legacy` (the seed's manifest.json mode).
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeLegacyInstall, tracingModule } from '../fixtures/legacy/install.js';
import { tempDir } from '../helpers/repo.js';
import { PROJECT, runCli } from '../helpers/run.js';

test('run-module runs an example module under a scratch root; a second run is idempotent', async () => {
  const dir = path.join(tempDir('uo-author'), 'adblock');
  cpSync(path.join(PROJECT, 'modules', 'adblock'), dir, { recursive: true });
  const first = await runCli(['run-module', dir, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const r = JSON.parse(first.stdout) as { status: string; result: { changed: boolean } };
  assert.equal(r.status, 'ok');
  assert.equal(r.result.changed, true);
  const list = readFileSync(path.join(dir, '.updates-dev', 'root', 'etc', 'adblock', 'blocklist.conf'), 'utf8');
  assert.match(list, /0\.0\.0\.0 ads\.example\.com/);
  assert.ok(existsSync(path.join(dir, '.updates-dev', 'state', 'services.log')), 'the restart was recorded, not performed');
  const second = await runCli(['run-module', dir, '--json']);
  assert.equal((JSON.parse(second.stdout) as { result: { changed: boolean } }).result.changed, false);
});

test('run-module reports a denied request with the missing declaration, and passes arguments after --', async () => {
  const dir = path.join(tempDir('uo-author'), 'nosy');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ metadata: { schema_version: '1.0.0' } }));
  writeFileSync(
    path.join(dir, 'index.ts'),
    "import { fs } from 'updates-orchestrator/sdk';\nexport async function main(args?: string[]) {\n  await fs.writeFile(`/etc/${args?.[0] ?? 'x'}`, 'hi');\n  return { success: true };\n}\n",
  );
  const r = await runCli(['run-module', dir, '--json', '--', 'motd']);
  assert.equal(r.code, 1);
  const out = JSON.parse(r.stdout) as { status: string; error: { message: string } };
  assert.equal(out.status, 'failed');
  assert.match(out.error.message, /\/etc\/motd.*capabilities\.paths/);
});

test('updates --legacy runs the manifest\'s children in order through the CLI, and refuses combining with check', async () => {
  const root = tempDir('uo-legacy-cli');
  mkdirSync(path.join(root, 'trace'), { recursive: true });
  const install = path.join(root, 'install');
  mkdirSync(install);
  await makeLegacyInstall(install, { alpha: tracingModule('alpha'), beta: tracingModule('beta') }, ['beta', 'alpha']);
  // --root maps the install root too (as dpkg --root does): /install is <root>/install.
  const r = await runCli(['--legacy', '--modules-path', '/install', '--root', root, '--services', 'record', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(path.join(root, 'trace', 'order.txt'), 'utf8'), 'beta\nalpha\n');
  const report = JSON.parse(r.stdout) as { modules: { module: string; status: string }[] };
  assert.deepEqual(report.modules.map((m) => [m.module, m.status]), [['beta', 'ok'], ['alpha', 'ok']]);
  const bad = await runCli(['check', '--legacy', '--modules-path', install]);
  assert.equal(bad.code, 2);
});
