// The entry point is no import, so the import policy alone does not see it: it must be a file of the module's
// folder too, however it is reached (a symlink, a chain of symlinks).
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { bundleModule } from '../../src/sandbox/build/bundle.js';
import { tempDir } from '../helpers/repo.js';

const OUTSIDE_SOURCE = `export async function main() { return { success: true, message: 'REACHED' }; }\n`;

for (const [label, target] of [
  ['a symlink to a file outside', (outside: string) => outside],
  ['a chain of symlinks that reads as inside', (outside: string, dir: string) => `a/a/a/${path.relative(dir, outside)}`],
] as const) {
  test(`an index.ts that is ${label} the module folder is refused at build`, async () => {
    const dir = path.join(tempDir('uo-entry'), 'mod');
    mkdirSync(dir);
    const outside = path.join(tempDir('uo-entry-outside'), 'evil.ts');
    writeFileSync(outside, OUTSIDE_SOURCE);
    symlinkSync('.', path.join(dir, 'a'));
    symlinkSync(target(outside, dir), path.join(dir, 'index.ts'));
    await assert.rejects(bundleModule(dir, 'mod'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'E_BUILD');
      assert.match(err.message, /outside the module folder/);
      return true;
    });
  });
}

test('an index.ts that is a symlink to a file inside the folder still builds', async () => {
  const dir = path.join(tempDir('uo-entry'), 'mod');
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'src', 'main.ts'), OUTSIDE_SOURCE);
  symlinkSync('src/main.ts', path.join(dir, 'index.ts'));
  assert.match(await bundleModule(dir, 'mod'), /REACHED/);
});
