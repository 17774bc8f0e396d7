// --help, --version, status and usage errors answer without loading the run machinery: a resolve hook
// refuses piscina, ses and esbuild, and these commands still work; so does a check with nothing to install
// (while a run that installs, under the same hook, does not). The launcher runs the CLI bundle (dist/bundle/main.cjs),
// where the hook sees these packages only because the bundle leaves them external: checked here too.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { BIN, PROJECT, runCli, runNode } from '../helpers/run.js';
import type { CliResult } from '../helpers/run.js';

const hooks = path.join(tempDir('uo-hooks'), 'refuse-heavy.mjs');
writeFileSync(
  hooks,
  `export async function resolve(specifier, context, next) {
  if (/^(piscina|ses|esbuild)(\\/|$)/.test(specifier)) throw new Error('HEAVY LOAD: ' + specifier);
  return next(specifier, context);
}
`,
);
const register = path.join(path.dirname(hooks), 'register.mjs');
writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
// What the project's code loads through require (esbuild, by createRequire) goes through the CommonJS loader,
// which the resolve hook above does not see: refused there too (tsx, which runs the tests, requires esbuild itself).
const refuseRequire = path.join(path.dirname(hooks), 'refuse-heavy.cjs');
writeFileSync(
  refuseRequire,
  `const Module = require('node:module');
const load = Module._load;
Module._load = function (request, parent, ...rest) {
  const ours = parent?.filename !== undefined && !parent.filename.includes('/node_modules/');
  if (ours && /^(piscina|ses|esbuild)(\\/|$)/.test(request)) throw new Error('HEAVY LOAD: ' + request);
  return load.call(this, request, parent, ...rest);
};
`,
);

/** The CLI with the hooks that refuse the run machinery registered before it loads. */
function cli(args: string[]): Promise<CliResult> {
  return runNode(['--import', register, '--require', refuseRequire, BIN, ...args]);
}

test('--version, --help, status and a usage error load neither piscina, ses nor esbuild', async () => {
  const version = await cli(['--version']);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const help = await cli(['--help']);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: updates/);
  const status = await cli(['status', '--json', '--modules-path', tempDir()]);
  assert.equal(status.code, 0, status.stderr);
  assert.deepEqual((JSON.parse(status.stdout) as { modules: unknown[] }).modules, []);
  const usage = await cli(['--pool-size', '0']);
  assert.equal(usage.code, 2, usage.stderr);
  for (const r of [version, help, status, usage]) assert.doesNotMatch(r.stderr, /HEAVY LOAD/);
});

test('a check with nothing to install loads neither piscina, ses nor esbuild', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const flags = ['--modules-path', tempDir(), '--repo-url', repo.url, '--services', 'record'];
  const install = await runCli(['run', ...flags]);
  assert.equal(install.code, 0, install.stderr);
  const check = await cli(['check', ...flags]);
  assert.equal(check.code, 0, check.stderr);
  assert.doesNotMatch(check.stderr, /HEAVY LOAD/);
  // The hook is effective: a run that has a module to build needs esbuild, and is refused under it.
  repo.commit(moduleFiles('web', { version: '1.1.0' }));
  const update = await cli(['run', ...flags]);
  assert.notEqual(update.code, 0);
  assert.match(update.stderr, /HEAVY LOAD: esbuild/);
});

test('the CLI bundle the launcher runs leaves piscina, ses and esbuild outside, imported by name', () => {
  const file = path.join(PROJECT, 'dist', 'bundle', 'main.cjs');
  assert.ok(existsSync(file), 'npm run build made the CLI bundle');
  const code = readFileSync(file, 'utf8');
  for (const pkg of ['piscina', 'ses', 'esbuild']) {
    // esbuild marks each bundled file with a `// node_modules/<pkg>/...` comment.
    assert.doesNotMatch(code, new RegExp(`^// node_modules/${pkg}/`, 'm'), `${pkg} is not bundled`);
  }
  // assert.ok, not assert.match: a failure would print the whole bundle, and diffing that takes the runner minutes.
  assert.ok(/^\/\/ node_modules\/zod\//m.test(code), 'zod is bundled (the check above would see a bundled package)');
  assert.ok(/createRequire\)?\(__updatesImportMetaUrl\)\("esbuild"\)/.test(code), 'esbuild is loaded by name (require), where the hooks see it');
  assert.ok(code.includes('require("piscina")'), 'piscina is loaded by name (require), where the hooks see it');
  // zod's messages come from its English locale alone: the other locales (about 590 KB) would load at each start.
  // (index.js is the locales' barrel file, whose re-exports the bundle leaves out: an empty module.)
  const locales = new Set([...code.matchAll(/^\/\/ node_modules\/zod\/v4\/locales\/([\w-]+)\.js$/gm)].map((m) => m[1]).filter((name) => name !== 'index'));
  assert.deepEqual([...locales], ['en']);
});
