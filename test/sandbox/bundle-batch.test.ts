// Bundling several modules in one esbuild call: each output is what bundling the module alone gives, to the byte,
// each module is held to its own folder, and a module that does not build fails alone with its own E_BUILD.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { UpdatesError } from '../../src/core/errors.js';
import { bundleModule, bundleModules } from '../../src/sandbox/build/bundle.js';
import type { BundleOutcome } from '../../src/sandbox/build/bundle.js';
import { tempDir } from '../helpers/repo.js';
import { FIXTURES } from './helpers.js';

const SDK_MODULE = (text: string): string => `import { log } from 'updates-orchestrator/sdk';\nexport async function main() { log.info(${JSON.stringify(text)}); return { success: true }; }\n`;

/** Writes a module folder of `files` under `parent` (as Phase 1 stages them: versions/<name>/.staging-…). */
function moduleDir(parent: string, name: string, files: Record<string, string>): string {
  const dir = path.join(parent, name, '.staging-0123456789ab');
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

/** An outcome as something comparable: the code, or the error's code and message. */
function shown(outcome: BundleOutcome): unknown {
  if ('code' in outcome) return { code: outcome.code };
  return outcome.err instanceof UpdatesError ? { err: outcome.err.code, message: outcome.err.message } : { err: String(outcome.err) };
}

async function alone(dir: string, name: string): Promise<unknown> {
  return shown(await bundleModule(dir, name).then((code) => ({ code }), (err: unknown) => ({ err })));
}

test('a batch gives each module exactly what bundling it alone gives', async () => {
  const parent = tempDir('uo-batch');
  const modules = [
    { name: 'multi', dir: moduleDir(parent, 'multi', {
      'index.ts': "import { log } from 'updates-orchestrator/sdk';\nimport { a } from './lib/a.js';\nimport data from './data.json';\nexport async function main() { log.info(String(a() + data.x)); return { success: true }; }\n",
      'lib/a.ts': "import { b } from './sub/b.js';\nexport const a = (): number => b + 1;\n",
      'lib/sub/b.ts': 'export const b = 41;\n',
      'data.json': '{ "x": 1 }\n',
    }) },
    { name: 'plain', dir: moduleDir(parent, 'plain', { 'index.ts': SDK_MODULE('plain') }) },
    { name: 'cjs', dir: moduleDir(parent, 'cjs', { 'index.js': "const { log } = require('updates-orchestrator/sdk');\nmodule.exports.main = async () => { log.info('cjs'); return { success: true }; };\n" }) },
  ];
  const ok = path.join(parent, 'ok', '.staging-0123456789ab');
  cpSync(path.join(FIXTURES, 'ok'), ok, { recursive: true });
  modules.push({ name: 'ok', dir: ok });
  const batch = await bundleModules(modules);
  assert.equal(batch.length, modules.length);
  for (const [i, m] of modules.entries()) {
    const outcome = batch[i] as BundleOutcome;
    assert.ok('code' in outcome, `${m.name} builds in the batch`);
    assert.deepEqual(shown(outcome), await alone(m.dir, m.name), `${m.name}: the batch's bundle is the bundle built alone`);
    assert.doesNotMatch(outcome.code, /\.staging-/, 'no folder above the module is named in its bundle');
  }
});

test('one module that does not build fails alone, with its own E_BUILD; the others build', async () => {
  const parent = tempDir('uo-batch');
  const modules = [
    { name: 'first', dir: moduleDir(parent, 'first', { 'index.ts': SDK_MODULE('first') }) },
    { name: 'evil', dir: moduleDir(parent, 'evil', { 'index.ts': "import { readFileSync } from 'node:fs';\nexport async function main() { readFileSync('/etc/shadow'); return { success: true }; }\n" }) },
    { name: 'broken', dir: moduleDir(parent, 'broken', { 'index.ts': 'export async function main() {\n  return { success: true ;\n}\n' }) },
    { name: 'empty', dir: moduleDir(parent, 'empty', { 'README.md': 'no entry\n' }) },
    { name: 'last', dir: moduleDir(parent, 'last', { 'index.ts': SDK_MODULE('last') }) },
  ];
  const batch = (await bundleModules(modules)).map(shown);
  for (const [i, m] of modules.entries()) assert.deepEqual(batch[i], await alone(m.dir, m.name), `${m.name}: as alone`);
  assert.ok('code' in (batch[0] as object) && 'code' in (batch[4] as object), 'the good modules build');
  const messages = batch.slice(1, 4).map((o) => o as { err: string; message: string });
  assert.deepEqual(messages.map((o) => o.err), ['E_BUILD', 'E_BUILD', 'E_BUILD']);
  assert.match(messages[0]?.message ?? '', /module "evil" .*index\.ts imports 'node:fs'/);
  assert.match(messages[1]?.message ?? '', /module "broken" .*index\.ts:2:\d+: /);
  assert.match(messages[2]?.message ?? '', /module "empty" .*no index\.ts or index\.js/);
});

test('in a batch, a module cannot import the files of another module of the same batch', async () => {
  const parent = tempDir('uo-batch');
  const victim = moduleDir(parent, 'victim', { 'index.ts': SDK_MODULE('victim'), 'secret.ts': "export const secret = 'VICTIM SECRET';\n" });
  const rel = path.relative(path.join(parent, 'thief', '.staging-0123456789ab'), path.join(victim, 'secret.js'));
  const thief = moduleDir(parent, 'thief', { 'index.ts': `import { secret } from './${rel.split(path.sep).join('/')}';\nexport async function main() { return { success: true, message: secret }; }\n` });
  const batch = await bundleModules([{ name: 'victim', dir: victim }, { name: 'thief', dir: thief }]);
  assert.ok('code' in (batch[0] as object), 'the victim builds');
  const err = (batch[1] as { err: unknown }).err;
  assert.ok(err instanceof UpdatesError && err.code === 'E_BUILD', String(err));
  assert.match(err.message, /outside the module folder/);
  assert.deepEqual(readdirSync(path.join(parent, 'thief', '.staging-0123456789ab')), ['index.ts'], 'nothing is written');
});

test('a batch of one module, or of none, is what bundling alone gives', async () => {
  const parent = tempDir('uo-batch');
  const dir = moduleDir(parent, 'solo', { 'index.ts': SDK_MODULE('solo') });
  assert.deepEqual((await bundleModules([{ name: 'solo', dir }])).map(shown), [await alone(dir, 'solo')]);
  assert.deepEqual(await bundleModules([]), []);
});

test('folders named otherwise than staging folders build in a batch too', async () => {
  const dirs = ['ok', 'echo'].map((name) => ({ name, dir: path.join(FIXTURES, name) }));
  const batch = await bundleModules(dirs);
  for (const [i, m] of dirs.entries()) {
    const outcome = batch[i] as BundleOutcome;
    assert.ok('code' in outcome, `${m.name} builds`);
    assert.match(outcome.code, /require\("updates-orchestrator\/sdk"\)/);
  }
});
