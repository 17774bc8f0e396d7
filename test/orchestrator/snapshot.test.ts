// readSnapshot: a module folder whose tree is the one its installed version came from is not read again (no
// walk, no manifest parse: the installed manifest stands); a changed folder is read and checked in full.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseModuleManifest } from '../../src/core/manifest.js';
import type { ModuleManifest } from '../../src/core/manifest.js';
import { readSnapshot } from '../../src/orchestrator/snapshot.js';
import { makeRepo, moduleFiles, rootIndex } from '../helpers/repo.js';

test('an unchanged module keeps its installed manifest and is not walked; a changed one is read in full', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('same', { version: '1.0.0' }), ...moduleFiles('moved', { version: '1.0.0' }) });
  const gitDir = `${repo.dir}/.git`;
  const tree = (name: string): string => repo.git('rev-parse', `HEAD:modules/${name}`);
  const parsed = parseModuleManifest(repo.git('show', 'HEAD:modules/same/index.json'), 'same');
  assert.ok(parsed.ok);
  // The installed manifest object is what the snapshot hands back for the unchanged module, untouched.
  const installed: ModuleManifest = parsed.manifest;
  const staleTree = tree('moved');
  const commit = repo.commit(moduleFiles('moved', { version: '1.1.0' }));
  const snapshot = await readSnapshot(gitDir, commit, new Map([
    ['same', { tree: tree('same'), manifest: installed }],
    ['moved', { tree: staleTree, manifest: installed }],
  ]));
  const same = snapshot.modules.find((m) => m.name === 'same');
  const moved = snapshot.modules.find((m) => m.name === 'moved');
  assert.equal(same?.unchanged, true);
  assert.equal(same?.manifest, installed);
  assert.deepEqual(same?.files, []);
  assert.equal(moved?.unchanged, undefined);
  assert.equal(moved?.manifest?.metadata.schema_version, '1.1.0');
  assert.deepEqual(moved?.files.map((f) => f.rel).sort(), ['index.json', 'index.ts']);
  assert.equal(snapshot.rootIndex?.metadata.schema_version, '0.1.0');
  // Without installed trees, every module is read.
  const full = await readSnapshot(gitDir, commit);
  assert.deepEqual(full.modules.map((m) => [m.name, m.unchanged, m.files.length]), [['moved', undefined, 2], ['same', undefined, 2]]);
});
