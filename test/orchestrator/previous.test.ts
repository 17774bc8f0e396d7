// The version a module's `previous` link names: from the folder's name when this orchestrator installed it, from
// its manifest otherwise (a folder adopted from the seed), and none when the folder is gone.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readPrevious } from '../../src/orchestrator/installed.js';
import { layoutOf, previousLink, versionsOf } from '../../src/orchestrator/layout.js';

function withPrevious(name: string, folder: string, manifestVersion: string | undefined): ReturnType<typeof layoutOf> {
  const root = mkdtempSync(path.join(tmpdir(), 'uo-previous-'));
  test.after(() => rmSync(root, { recursive: true, force: true }));
  const layout = layoutOf(root);
  const dir = path.join(versionsOf(layout, name), folder);
  mkdirSync(dir, { recursive: true });
  if (manifestVersion !== undefined) writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ metadata: { schema_version: manifestVersion } }));
  symlinkSync(folder, previousLink(layout, name));
  return layout;
}

test('an installed folder names its version, prerelease included', async () => {
  assert.deepEqual(await readPrevious(withPrevious('web', '1.2.3-rc.1-0123456789ab', '1.2.3-rc.1'), 'web'), { versionDir: '1.2.3-rc.1-0123456789ab', version: '1.2.3-rc.1' });
});

test('an adopted folder is read from its manifest', async () => {
  assert.deepEqual(await readPrevious(withPrevious('web', 'adopted-1700000000000', '2.0.0'), 'web'), { versionDir: 'adopted-1700000000000', version: '2.0.0' });
});

test('a previous link to a folder without its manifest is no previous version', async () => {
  assert.equal(await readPrevious(withPrevious('web', '1.0.0-0123456789ab', undefined), 'web'), undefined);
  assert.equal(await readPrevious(withPrevious('web', 'adopted-1', undefined), 'web'), undefined);
});

test('no previous link, no previous version', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'uo-previous-'));
  test.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal(await readPrevious(layoutOf(root), 'web'), undefined);
});
