// The bundler: accepts a module's own files and the SDK, refuses everything else at build time with advice.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { UpdatesError } from '../../src/core/errors.js';
import { bundleModule } from '../../src/sandbox/build/bundle.js';
import { findRefusedSource } from '../../src/sandbox/build/source-check.js';
import { bundleFixture } from './helpers.js';

/** Asserts that bundling rejects with E_BUILD and a message matching every pattern. */
async function assertRefused(build: Promise<string>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(build, (err: unknown) => {
    assert.ok(err instanceof UpdatesError, `expected an UpdatesError, got ${String(err)}`);
    assert.equal(err.code, 'E_BUILD');
    for (const pattern of patterns) assert.match(err.message, pattern);
    return true;
  });
}

test('bundles a module with a local import into CommonJS that requires only the SDK', async () => {
  const code = await bundleFixture('ok');
  assert.match(code, /require\("updates-orchestrator\/sdk"\)/);
  assert.match(code, /hello /, 'the local helper is inlined');
  assert.equal(findRefusedSource(code), undefined);
});

test('refuses node:fs, names the file and suggests the SDK call', async () => {
  await assertRefused(bundleFixture('import-node-fs'), /import-node-fs/, /index\.ts imports 'node:fs'/, /use fs\.readFile\/writeFile from 'updates-orchestrator\/sdk'/);
});

test('refuses child_process and suggests exec() of a declared command', async () => {
  await assertRefused(bundleFixture('import-child-process'), /index\.ts imports 'child_process'/, /exec\(\) of a declared command/);
});

test('refuses a package other than the SDK', async () => {
  await assertRefused(bundleFixture('import-package'), /imports 'zod'/, /only 'updates-orchestrator\/sdk' and files in their own folder/);
});

test('refuses a relative import that leaves the module folder', async () => {
  await assertRefused(bundleFixture('import-outside'), /index\.ts imports '\.\.\/outside\/secret\.js'/, /outside the module folder/);
});

test('refuses a dynamic import, literal or computed', async () => {
  await assertRefused(bundleFixture('import-dynamic'), /imports 'node:fs'/, /dynamic import\(\) is not allowed/);
  const dir = await mkdtemp(path.join(tmpdir(), 'sandbox-bundle-'));
  try {
    await writeFile(path.join(dir, 'index.ts'), 'const name = ["node", "fs"].join(":");\nexport async function main() { await import(name); return { success: true }; }\n');
    await assertRefused(bundleModule(dir, 'computed'), /index\.ts \(bundle line \d+\)/, /dynamic import\(\) is not allowed/);
    await writeFile(path.join(dir, 'index.ts'), 'const name = "fs";\nexport async function main() { return { success: !!require(name) }; }\n');
    await assertRefused(bundleModule(dir, 'computed'), /require\(\) of anything but 'updates-orchestrator\/sdk'/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('refuses a symlink that leads out of the module folder', async () => {
  const root = await mkdtemp(path.join(tmpdir(), 'sandbox-bundle-'));
  try {
    await mkdir(path.join(root, 'mod'));
    await writeFile(path.join(root, 'secret.ts'), 'export const secret = 1;\n');
    await symlink(path.join(root, 'secret.ts'), path.join(root, 'mod', 'link.ts'));
    await writeFile(path.join(root, 'mod', 'index.ts'), 'import { secret } from "./link.js";\nexport async function main() { return { success: secret === 1 }; }\n');
    await assertRefused(bundleModule(path.join(root, 'mod'), 'mod'), /imports '\.\/link\.js'/, /outside the module folder/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('reports a syntax error as E_BUILD with file and line', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sandbox-bundle-'));
  try {
    await writeFile(path.join(dir, 'index.ts'), 'export async function main() {\n  return { success: true ;\n}\n');
    await assertRefused(bundleModule(dir, 'broken'), /module "broken" does not build/, /index\.ts:2:\d+: /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('falls back to index.js, and says so when there is no entry at all', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'sandbox-bundle-'));
  try {
    await assertRefused(bundleModule(dir, 'empty'), /no index\.ts or index\.js/);
    await writeFile(path.join(dir, 'index.js'), 'export async function main() { return { success: true }; }\n');
    assert.match(await bundleModule(dir, 'plain'), /success: true/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the source check names what SES would refuse at run time', () => {
  assert.match(findRefusedSource('// a.ts\nconst s = "<!-- x";\n') ?? '', /a\.ts \(bundle line 2\).*HTML-like comment/);
  assert.match(findRefusedSource('// a.ts\nx = eval("1");\n') ?? '', /direct eval/);
  assert.equal(findRefusedSource('// a.ts\nx.import(1); y.eval(2); require("updates-orchestrator/sdk");\n'), undefined);
});
