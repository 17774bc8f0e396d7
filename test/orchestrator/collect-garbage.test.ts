// collectGarbage keeps each module's live and previous versions (and a trial mark naming the live one) and
// removes the rest: version folders no link refers to, and what an interrupted run left (staging folders, temp links).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { collectGarbage, emptyTrash } from '../../src/orchestrator/install.js';
import { layoutOf, linkTarget, liveLink, previousLink, trialLink, versionsOf } from '../../src/orchestrator/layout.js';

function version(dir: string): void {
  mkdirSync(path.join(dir, '.updates'), { recursive: true });
  writeFileSync(path.join(dir, 'index.json'), '{}');
  writeFileSync(path.join(dir, '.updates', 'bundle.cjs'), '');
}

test('each module keeps its live and previous versions; older versions and crash leftovers go', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'uo-gc-'));
  test.after(() => rmSync(root, { recursive: true, force: true }));
  const layout = layoutOf(root);
  mkdirSync(layout.modulesDir, { recursive: true });
  // More modules than are removed between two turns of the event loop.
  const names = Array.from({ length: 40 }, (_, i) => `m${String(i).padStart(2, '0')}`);
  for (const name of names) {
    const dir = versionsOf(layout, name);
    for (const v of ['1.0.0-aaaaaaaaaaaa', '1.1.0-bbbbbbbbbbbb', '1.2.0-cccccccccccc']) version(path.join(dir, v));
    mkdirSync(path.join(dir, '.staging-0f3a'), { recursive: true });
    symlinkSync('1.1.0-bbbbbbbbbbbb', previousLink(layout, name));
    symlinkSync('1.2.0-cccccccccccc', trialLink(layout, name));
    symlinkSync(linkTarget(name, '1.2.0-cccccccccccc'), liveLink(layout, name));
  }
  symlinkSync(linkTarget('m00', '1.2.0-cccccccccccc'), path.join(layout.modulesDir, '.m00.tmp-1'));
  const collected = await collectGarbage(layout);
  assert.deepEqual(collected.versions.sort(), names.map((n) => `${n}/1.0.0-aaaaaaaaaaaa`));
  // The old versions were set aside in one trash folder, which emptyTrash removes.
  assert.ok(collected.trash !== undefined && readdirSync(collected.trash).length === names.length);
  await emptyTrash(collected.trash);
  assert.equal(existsSync(collected.trash), false);
  assert.deepEqual(collected.leftovers.sort(), [...names.map((n) => `${n}/.staging-0f3a`), 'modules/.m00.tmp-1'].sort());
  for (const name of names) assert.deepEqual(readdirSync(versionsOf(layout, name)).sort(), ['.trial', '1.1.0-bbbbbbbbbbbb', '1.2.0-cccccccccccc', 'previous']);
  assert.equal(existsSync(path.join(layout.modulesDir, '.m00.tmp-1')), false);
  // Nothing more to do the second time.
  assert.deepEqual(await collectGarbage(layout), { versions: [], leftovers: [] });
});

test('a trash folder an interrupted run left is set aside again and emptied', async () => {
  const root = mkdtempSync(path.join(tmpdir(), 'uo-gc-'));
  test.after(() => rmSync(root, { recursive: true, force: true }));
  const layout = layoutOf(root);
  mkdirSync(layout.modulesDir, { recursive: true });
  const left = path.join(layout.versionsDir, '.trash-0123456789ab');
  version(path.join(left, 'web-1.0.0-aaaaaaaaaaaa'));
  const collected = await collectGarbage(layout);
  assert.ok(collected.trash !== undefined);
  assert.deepEqual(readdirSync(collected.trash), ['.trash-0123456789ab']);
  await emptyTrash(collected.trash);
  assert.deepEqual(readdirSync(layout.versionsDir), []);
});
