// A module deadline below one second is refused in the manifest: it would round to 0 ms and no module can run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseModuleManifest } from '../../src/core/manifest.js';
import { liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runPhase1Only } from '../helpers/run.js';

const manifest = (timeout: number) => JSON.stringify({ metadata: { schema_version: '1.0.0', timeout_seconds: timeout } });

test('timeout_seconds below 1 is refused with a clear reason; 1 and more are accepted', () => {
  for (const t of [1e-9, 0.0004, 0.999]) {
    const r = parseModuleManifest(manifest(t), 'm');
    assert.equal(r.ok, false, String(t));
    if (!r.ok) assert.match(r.reason, /timeout_seconds must be at least 1/);
  }
  assert.equal(parseModuleManifest(manifest(1), 'm').ok, true);
  assert.equal(parseModuleManifest(manifest(2.5), 'm').ok, true);
});

test('a module with timeout_seconds 1e-9 is not installed; its neighbour is', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('tiny', { version: '1.0.0', timeoutSeconds: 1e-9 }), ...moduleFiles('fine', { version: '1.0.0' }) });
  const root = tempDir();
  const report = await runPhase1Only(root, repo.url);
  assert.deepEqual(liveVersions(root), { fine: '1.0.0' });
  assert.match(report.errors.map((e) => e.message).join('\n'), /module "tiny": invalid index\.json: metadata\.timeout_seconds: timeout_seconds must be at least 1/);
});
