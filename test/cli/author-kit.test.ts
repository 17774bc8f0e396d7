// The module author's path through the real CLI: new-module → validate → type-check → run-module, and validate
// refusing unknown manifest keys with the key that was meant.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/repo.js';
import { PROJECT, runCli } from '../helpers/run.js';

/** A module repository whose node_modules holds this package and the tools, as `npm install` would give it. */
function authorRepo(): string {
  const repo = path.join(tempDir('uo-author-kit'), 'my-modules');
  mkdirSync(path.join(repo, 'node_modules'), { recursive: true });
  symlinkSync(PROJECT, path.join(repo, 'node_modules', 'updates-orchestrator'));
  for (const p of ['typescript', 'eslint', 'typescript-eslint', 'tsx']) symlinkSync(path.join(PROJECT, 'node_modules', p), path.join(repo, 'node_modules', p));
  return repo;
}

test('new-module scaffolds a module that validates, type-checks, lints and runs with run-module as written', async () => {
  const repo = authorRepo();
  const made = await runCli(['new-module', 'motd', '--dir', repo]);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.stdout, /wrote modules\/motd\/index\.json\nwrote modules\/motd\/index\.ts\nwrote tsconfig\.json/);
  const manifest = JSON.parse(readFileSync(path.join(repo, 'modules', 'motd', 'index.json'), 'utf8')) as { metadata: Record<string, unknown>; capabilities: unknown };
  assert.deepEqual(Object.keys(manifest.metadata), ['schema_version', 'name', 'description', 'enabled', 'priority', 'timeout_seconds', 'max_memory_mb']);
  assert.deepEqual(manifest.capabilities, { paths: [], commands: [], services: [] });
  assert.match(readFileSync(path.join(repo, '.gitignore'), 'utf8'), /^\.updates-dev\/$/m);
  assert.match(readFileSync(path.join(repo, 'eslint.config.mjs'), 'utf8'), /no-floating-promises/);

  const valid = await runCli(['validate', path.join(repo, 'modules', 'motd')]);
  assert.equal(valid.code, 0, valid.stderr);
  assert.equal(valid.stdout, 'ok       motd 0.1.0\n');
  execFileSync(path.join(PROJECT, 'node_modules', '.bin', 'tsc'), ['-p', repo], { cwd: repo, encoding: 'utf8' });
  execFileSync(path.join(PROJECT, 'node_modules', '.bin', 'eslint'), ['.'], { cwd: repo, encoding: 'utf8' });

  const ran = await runCli(['run-module', path.join(repo, 'modules', 'motd'), '--json']);
  assert.equal(ran.code, 0, ran.stderr);
  assert.deepEqual((JSON.parse(ran.stdout) as { result: unknown }).result, { success: true, changed: false, message: 'nothing to do yet' });
  const again = await runCli(['new-module', 'motd', '--dir', repo]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists; nothing was written/);
});

test('validate refuses unknown manifest keys with the key that was meant, one line per module, exit 1', async () => {
  const repo = authorRepo();
  assert.equal((await runCli(['new-module', 'good', '--dir', repo])).code, 0);
  assert.equal((await runCli(['new-module', 'typo', '--dir', repo])).code, 0);
  const file = path.join(repo, 'modules', 'typo', 'index.json');
  const m = JSON.parse(readFileSync(file, 'utf8')) as { metadata: Record<string, unknown>; capabilities?: unknown; capabilites?: unknown };
  delete m.metadata['timeout_seconds'];
  m.metadata['timeout'] = 30;
  m.capabilites = m.capabilities;
  delete m.capabilities;
  writeFileSync(file, JSON.stringify(m));
  // validate without a folder: every module of ./modules
  const r = await runCli(['validate'], { cwd: repo });
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.equal(lines[0], 'ok       good 0.1.0');
  assert.match(lines[1] ?? '', /^invalid {2}typo: invalid index\.json: .*unknown key "timeout" \(did you mean "timeout_seconds"\?\).*unknown key "capabilites" \(did you mean "capabilities"\?\)/);
});

test('validate reports what Phase 1 refuses beyond the manifest: a forbidden import, a symlink out, a grant twice', async () => {
  const repo = authorRepo();
  for (const n of ['imports', 'links', 'twice']) assert.equal((await runCli(['new-module', n, '--dir', repo])).code, 0);
  writeFileSync(path.join(repo, 'modules', 'imports', 'index.ts'), "import { readFileSync } from 'node:fs';\nexport async function main() { readFileSync('/etc/passwd'); return { success: true }; }\n");
  symlinkSync('/etc/passwd', path.join(repo, 'modules', 'links', 'passwd'));
  const twice = path.join(repo, 'modules', 'twice', 'index.json');
  const m = JSON.parse(readFileSync(twice, 'utf8')) as { capabilities: { paths: unknown[] } };
  m.capabilities.paths = [{ path: '/etc/app', access: ['read'] }, { path: '/etc/app/', access: ['write'] }];
  writeFileSync(twice, JSON.stringify(m));
  const r = await runCli(['validate', ...['imports', 'links', 'twice'].map((n) => path.join(repo, 'modules', n))]);
  assert.equal(r.code, 1);
  const [imports, links, dup] = r.stdout.trim().split('\n');
  assert.match(imports ?? '', /^invalid {2}imports: does not build: .*node:fs/);
  assert.match(links ?? '', /^invalid {2}links: passwd is a symlink to "\/etc\/passwd", outside the module's folder/);
  assert.match(dup ?? '', /^invalid {2}twice: invalid index\.json: capabilities\.paths\.1: \/etc\/app is already granted by capabilities\.paths\.0/);
});
