// --help, --version, status and usage errors answer without loading the run machinery: a resolve hook
// refuses piscina, ses and esbuild, and these commands still work (while `run` under the same hook does not).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../helpers/repo.js';
import { BIN, PROJECT } from '../helpers/run.js';

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

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', register, BIN, ...args], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
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
