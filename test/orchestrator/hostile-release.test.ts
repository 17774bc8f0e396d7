// Self-update writes a release's files with the same writer as modules: a hostile tree in the repository's
// orchestrator part is refused before anything is written, and nothing lands outside the install root.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { stageRelease } from '../../src/orchestrator/self-update.js';
import { blob, commitEdited, nest, rawTree, seedClone } from '../helpers/raw-tree.js';
import type { RawEntry } from '../helpers/raw-tree.js';
import { makeRepo, rootIndex, tempDir } from '../helpers/repo.js';
import type { TestRepo } from '../helpers/repo.js';

/** A minimal orchestrator release tree at version 0.2.0, then `extra` entries added at its top. */
function hostileRelease(extra: (repo: TestRepo, outside: string) => RawEntry[]): { repo: TestRepo; installRoot: string; repoDir: string; outside: string; commit: string } {
  const repo = makeRepo({ ...rootIndex('0.2.0'), 'package.json': '{"name":"updates-orchestrator","version":"0.2.0"}\n', 'bin/updates.js': '// launcher\n' });
  const outside = tempDir('uo-hostile-outside');
  writeFileSync(path.join(outside, 'victim'), 'original\n');
  const commit = commitEdited(repo, [], (entries) => [...entries, ...extra(repo, outside)]);
  const installRoot = tempDir('uo-hostile-release');
  const repoDir = path.join(installRoot, 'state', 'repo.git');
  seedClone(repo, repoDir);
  return { repo, installRoot, repoDir, outside, commit };
}

/** releases/.staging-x is two folders below the install root: three ".." lead to its parent. */
const escaping = (repo: TestRepo, outside: string, first: string): RawEntry => {
  const pwned = rawTree(repo, [{ mode: '100644', name: 'pwned', oid: blob(repo, 'PWNED\n') }]);
  return { mode: '40000', name: first, oid: nest(repo, ['..', '..', path.basename(outside)], pwned) };
};

for (const [label, entries, detail] of [
  ['an entry ".."', (r: TestRepo, o: string) => [escaping(r, o, '..')], /the name "\.\."/],
  ['a name twice (symlink, then file)', (r: TestRepo, o: string) => [
    { mode: '120000', name: 'x', oid: blob(r, `../../../${path.basename(o)}/victim`) },
    { mode: '100644', name: 'x', oid: blob(r, 'PWNED\n') },
  ], /"x" appears twice/],
] as const) {
  test(`a release tree with ${label} is refused; nothing is written outside and nothing is made current`, async () => {
    const h = hostileRelease(entries);
    await assert.rejects(
      stageRelease({ installRoot: h.installRoot, repoDir: h.repoDir, commit: h.commit, version: '0.2.0', logger: silentLogger() }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'E_SELF_UPDATE');
        assert.match(err.message, detail);
        return true;
      },
    );
    assert.deepEqual(readdirSync(h.outside).sort(), ['victim']);
    assert.equal(existsSync(path.join(h.installRoot, 'releases', 'current')), false);
    assert.deepEqual(readdirSync(path.join(h.installRoot, 'releases')), [], 'no staging folder is left');
  });
}
