// --help, --version, status and usage errors answer without loading the run machinery: a resolve hook
// refuses piscina, ses and esbuild, and these commands still work (while `run` under the same hook does not).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/repo.js';
import { BIN, runNode } from '../helpers/run.js';
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

/** The CLI with the resolve hook that refuses the run machinery registered before it loads. */
function cli(args: string[]): Promise<CliResult> {
  return runNode(['--import', register, BIN, ...args]);
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

test('the hook is effective: `run` needs the run machinery and is refused under it', async () => {
  const r = await cli(['run', '--root', tempDir(), '--repo-url', 'file:///nowhere', '--log-level', 'debug']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /HEAVY LOAD/);
});
