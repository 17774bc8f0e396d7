// ObjectReader: many reads through one long-lived cat-file process, byte-exact, in order; a missing object
// fails its own read only.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ObjectReader } from '../../src/orchestrator/object-reader.js';
import { makeRepo } from '../helpers/repo.js';

test('reads commits, trees and blobs in order, byte-exact, large ones included; a missing object fails only its read', async () => {
  const big = randomBytes(3 * 1024 * 1024).toString('base64');
  const repo = makeRepo({ 'a.txt': 'alpha\n', 'big.txt': big, 'dir/b.txt': 'beta' });
  const oid = (rev: string): string => repo.git('rev-parse', rev);
  const reader = new ObjectReader(`${repo.dir}/.git`);
  try {
    const [commits, blobs, headers] = await Promise.all([
      reader.read([oid('HEAD')]),
      reader.read([oid('HEAD:a.txt'), oid('HEAD:big.txt'), oid('HEAD:dir/b.txt'), oid('HEAD:a.txt')]),
      reader.read([oid('HEAD:big.txt'), oid('HEAD:dir')], true),
    ]);
    assert.equal(commits.get(oid('HEAD'))?.type, 'commit');
    assert.equal(blobs.size, 3);
    assert.equal(blobs.get(oid('HEAD:a.txt'))?.data.toString(), 'alpha\n');
    assert.equal(blobs.get(oid('HEAD:big.txt'))?.data.toString(), big);
    assert.equal(blobs.get(oid('HEAD:dir/b.txt'))?.data.toString(), 'beta');
    assert.deepEqual([...headers.values()].map((h) => [h.type, h.size, h.data.length]), [['blob', big.length, 0], ['tree', headers.get(oid('HEAD:dir'))?.size, 0]]);
    await assert.rejects(reader.read([oid('HEAD:a.txt'), '0'.repeat(40)]), /0{40} is missing/);
    assert.equal((await reader.read([oid('HEAD:dir/b.txt')])).get(oid('HEAD:dir/b.txt'))?.data.toString(), 'beta');
  } finally {
    reader.close();
  }
});
