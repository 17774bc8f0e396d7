// SDK calls a module started without awaiting them are performed before its run is reported over, never lost.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../src/core/logger.js';
import { createPhase2 } from '../../src/orchestrator/phase2.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runPhase1Only } from '../helpers/run.js';

const COUNT = 20;

/** A module whose main() starts a log line and a store write without awaiting either, then returns. */
function forgetful(name: string): Record<string, string> {
  const files = moduleFiles(name, { version: '1.0.0', timeoutSeconds: 60, body: `void log.info('hello from ${name}');\n  void store.set('k', 'v');\n  return { success: true };` });
  const key = `modules/${name}/index.ts`;
  files[key] = (files[key] ?? '').replace("import { log } from 'updates-orchestrator/sdk';", "import { log, store } from 'updates-orchestrator/sdk';");
  return files;
}

test(`${COUNT} modules that do not await log.info and store.set: every log line and every store is there`, async () => {
  const names = Array.from({ length: COUNT }, (_, i) => `forgetful-${String(i).padStart(2, '0')}`);
  const repo = makeRepo({ ...rootIndex(), ...Object.assign({}, ...names.map(forgetful)) as Record<string, string> });
  const root = tempDir('uo-root');
  const install = path.join(root, 'inst');
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const report = await runPhase1Only(install, repo.url, { root, logger: createLogger({ destination: sink, level: 'info' }), phase2: createPhase2({ services: 'record' }) });
  assert.equal(report.exitCode, 0, JSON.stringify(report.modules));
  for (const name of names) {
    assert.ok(lines.some((l) => l['module'] === name && l['msg'] === `hello from ${name}`), `the log line of ${name}`);
    const store = path.join(install, 'state', 'store', `${name}.json`);
    assert.ok(existsSync(store), `the store of ${name}`);
    assert.deepEqual(JSON.parse(readFileSync(store, 'utf8')), { k: 'v' });
  }
  assert.ok(!lines.some((l) => l['code'] === 'E_RUN_ENDED'), 'no call was refused as late');
});
