// The one writer of repository files (modules and releases): exclusive creation, symlinks checked on disk.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { UnsafeTreeError, writeTree } from '../../src/orchestrator/tree-writer.js';
import { tempDir } from '../helpers/repo.js';

const file = (rel: string, content: string, mode = '100644') => ({ rel, mode, content: Buffer.from(content) });
const link = (rel: string, target: string) => ({ rel, mode: '120000', content: Buffer.from(target) });

function victim(): { dir: string; victim: string } {
  const dir = tempDir('uo-writer');
  const v = path.join(tempDir('uo-writer-outside'), 'victim');
  writeFileSync(v, 'original\n');
  return { dir, victim: v };
}

test('a file written after a symlink of the same name is refused: nothing is written through the link', async () => {
  const { dir, victim: v } = victim();
  await assert.rejects(writeTree(path.join(dir, 'm'), [link('x', v), file('x', 'PWNED')]), UnsafeTreeError);
  assert.equal(readFileSync(v, 'utf8'), 'original\n');
});

test('a folder entry after a symlink of the same name is refused: nothing is written below the link', async () => {
  const { dir, victim: v } = victim();
  await assert.rejects(writeTree(path.join(dir, 'm'), [link('d', path.dirname(v)), file('d/victim', 'PWNED')]), /collides/);
  assert.deepEqual(readdirSync(path.dirname(v)), ['victim']);
  assert.equal(readFileSync(v, 'utf8'), 'original\n');
});

test('the target folder must be new: an existing one (or a symlink in its place) is never written into', async () => {
  const { dir, victim: v } = victim();
  mkdirSync(path.join(dir, 'existing'));
  await assert.rejects(writeTree(path.join(dir, 'existing'), [file('a', 'x')]), { code: 'EEXIST' });
  symlinkSync(path.dirname(v), path.join(dir, 'linked'));
  await assert.rejects(writeTree(path.join(dir, 'linked'), [file('victim', 'PWNED')]), { code: 'EEXIST' });
  assert.equal(readFileSync(v, 'utf8'), 'original\n');
});

test('symlinks are kept when they resolve inside the folder, refused when they resolve outside or nowhere', async () => {
  const { dir } = victim();
  await writeTree(path.join(dir, 'ok'), [file('lib/a.ts', 'export {}'), link('a', '.'), link('b', 'lib/a.ts'), link('c', 'a/a/lib/../lib/a.ts')]);
  assert.deepEqual(readdirSync(path.join(dir, 'ok')).sort(), ['a', 'b', 'c', 'lib']);
  await assert.rejects(writeTree(path.join(dir, 'out'), [link('a', '.'), link('x', 'a/a/../..')]), /"x" is a symlink to "a\/a\/\.\.\/\.\." which resolves outside|resolves outside the folder/);
  await assert.rejects(writeTree(path.join(dir, 'dangling'), [link('x', 'missing')]), /does not resolve/);
});

test('an entry named ".." or holding a "/" is refused by the writer itself', async () => {
  const { dir } = victim();
  await assert.rejects(writeTree(path.join(dir, 'dots'), [file('../escape', 'x')]), /the name "\.\."/);
  await assert.rejects(writeTree(path.join(dir, 'empty'), [file('a//b', 'x')]), /an empty name/);
});
