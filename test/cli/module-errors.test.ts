// A module's error as an author sees it through run-module: its message, where in its own files it happened
// (index.ts:LINE:COL through the bundle's source map), and what to use instead of what the sandbox lacks.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/repo.js';
import { runCli } from '../helpers/run.js';

/** A module folder with the given files (index.json is added). */
function moduleDir(name: string, files: Record<string, string>): string {
  const dir = path.join(tempDir('uo-errors'), name);
  mkdirSync(path.join(dir, 'lib'), { recursive: true });
  writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ metadata: { schema_version: '1.0.0' } }));
  for (const [rel, text] of Object.entries(files)) writeFileSync(path.join(dir, rel), text);
  return dir;
}

async function failure(dir: string): Promise<string> {
  const r = await runCli(['run-module', dir, '--json', '--log-level', 'silent']);
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout) as { status: string; error: { message: string } };
  assert.equal(out.status, 'failed');
  return out.error.message;
}

test('a runtime error names the line and column in the module\'s own files, innermost first', async () => {
  const dir = moduleDir('thrower', {
    'lib/parse.ts': "export function parse(text: string): number {\n  const n = Number(text);\n  if (Number.isNaN(n)) throw new Error(`not a number: ${text}`);\n  return n;\n}\n",
    'index.ts': "import { parse } from './lib/parse.js';\n\nexport async function main() {\n  const port = parse('eighty');\n  return { success: port > 0 };\n}\n",
  });
  const message = await failure(dir);
  assert.match(message, /^module "thrower" failed: Error: not a number: eighty \(at lib\/parse\.ts:3:\d+ in parse; index\.ts:4:\d+ in main\)$/);
});

test('a TypeError of the module\'s own code is mapped too', async () => {
  const dir = moduleDir('typeerr', { 'index.ts': "export async function main() {\n  const cfg = JSON.parse('null') as { port: number };\n\n  return { success: cfg.port > 0 };\n}\n" });
  assert.match(await failure(dir), /TypeError: .*null.* \(at index\.ts:4:\d+ in main\)/);
});

test('Date.now(), setTimeout and Math.random fail with what to use instead', async () => {
  const date = moduleDir('date', { 'index.ts': 'export async function main() {\n  return { success: Date.now() > 0 };\n}\n' });
  assert.match(await failure(date), /%SharedDate%\.now\(\) throws \(at index\.ts:2:\d+ in main\); .*use `await clock\.now\(\)`/);
  const timer = moduleDir('timer', {
    'index.ts': 'declare const setTimeout: (f: () => void, ms: number) => void;\nexport async function main() {\n  await new Promise<void>((r) => setTimeout(r, 10));\n  return { success: true };\n}\n',
  });
  assert.match(await failure(timer), /setTimeout is not a function.*use `await clock\.sleep\(ms\)`/);
  const random = moduleDir('random', { 'index.ts': 'export async function main() {\n  return { success: Math.random() >= 0 };\n}\n' });
  assert.match(await failure(random), /Math%?\.random\(\) throws.*no Math\.random\(\): use `await random\.hex\(bytes\)` or `await random\.uuid\(\)`/);
});

test('what the hint names works in the sandbox: random.uuid() and random.hex() from the SDK', async () => {
  const dir = moduleDir('rand', {
    'index.ts': "import { random } from 'updates-orchestrator/sdk';\nexport async function main() {\n  const [id, hex] = [await random.uuid(), await random.hex(8)];\n  return { success: true, message: `${id} ${hex}` };\n}\n",
  });
  const r = await runCli(['run-module', dir, '--json', '--log-level', 'silent']);
  assert.equal(r.code, 0, r.stderr);
  const message = (JSON.parse(r.stdout) as { result: { message: string } }).result.message;
  assert.match(message, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} [0-9a-f]{16}$/);
});
