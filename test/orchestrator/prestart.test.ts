// The sandbox starts while Phase 1 runs (createPhase2's prestart): one sandbox process serves the whole run,
// and one started for a run that ends without Phase 2 (a held lock included) is ended with it, leaving no
// process behind.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { Writable } from 'node:stream';
import path from 'node:path';
import { test } from 'node:test';
import { UpdatesError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import type { Logger } from '../../src/core/logger.js';
import { acquireLock } from '../../src/orchestrator/lock.js';
import { createPhase2 } from '../../src/orchestrator/phase2.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runPhase1Only } from '../helpers/run.js';
import { sandboxHosts } from '../sandbox/proc.js';

const asRoot = process.getuid?.() === 0;

/** A debug logger that keeps every line, and resolves `started` on the first sandbox process start. */
function recordingLogger(): { logger: Logger; lines: string[]; started: Promise<void> } {
  const lines: string[] = [];
  let onStart: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (onStart = resolve));
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = chunk.toString();
      lines.push(...text.split('\n').filter((l) => l !== ''));
      if (text.includes('sandbox process 1 started')) onStart();
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines, started };
}

test('a run starts its sandbox process once, ahead of Phase 2, and leaves none behind', { skip: !asRoot && 'process isolation needs root' }, async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('alpha', { version: '1.0.0' }), ...moduleFiles('beta', { version: '1.0.0' }) });
  const installRoot = path.join(tempDir(), 'updates');
  const { logger, lines } = recordingLogger();
  const report = await runPhase1Only(installRoot, repo.url, { logger, phase2: createPhase2({ services: 'record' }) });
  assert.equal(report.exitCode, 0, JSON.stringify(report.errors));
  assert.deepEqual(report.modules.map((m) => [m.module, m.status]).sort(), [['alpha', 'ok'], ['beta', 'ok']]);
  assert.equal(lines.filter((l) => /sandbox process \d+ started/.test(l)).length, 1, 'one sandbox process for the run');
  assert.deepEqual(sandboxHosts(), []);
});

test('a sandbox started ahead is ended when Phase 2 does not take it, started or still starting', { skip: !asRoot && 'process isolation needs root' }, async () => {
  // Ended once its process is up and its workers are starting.
  const up = recordingLogger();
  const end = createPhase2({ services: 'record' }).prestart?.(up.logger);
  assert.ok(end !== undefined);
  await up.started;
  assert.equal(sandboxHosts().length, 1);
  await end();
  assert.deepEqual(sandboxHosts(), []);
  // Ended before its process was even spawned: the start completes and is ended, nothing outlives end().
  const early = recordingLogger();
  const endAtOnce = createPhase2({ services: 'record' }).prestart?.(early.logger);
  await endAtOnce?.();
  assert.deepEqual(sandboxHosts(), []);
  // Ending twice is harmless.
  await endAtOnce?.();
});

test('a run refused because another holds the lock ends the sandbox it started', { skip: !asRoot && 'process isolation needs root' }, async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('alpha', { version: '1.0.0' }) });
  const installRoot = path.join(tempDir(), 'updates');
  await mkdir(installRoot, { recursive: true });
  const lock = await acquireLock(installRoot);
  try {
    const { logger } = recordingLogger();
    await assert.rejects(runPhase1Only(installRoot, repo.url, { logger, phase2: createPhase2({ services: 'record' }) }), (err: unknown) => err instanceof UpdatesError && err.code === 'E_LOCKED');
    assert.deepEqual(sandboxHosts(), []);
  } finally {
    await lock.release();
  }
});
