// The sandbox starts while Phase 1 runs (createPhase2's prestart): one sandbox process serves the whole run,
// and one started for a run that ends without Phase 2 (a held lock included) is ended with it, leaving no
// process behind. After Phase 2 it ends beside the run's last steps, which the run waits for before its lock goes.
import assert from 'node:assert/strict';
import { existsSync, watch } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { Writable } from 'node:stream';
import path from 'node:path';
import { test } from 'node:test';
import { UpdatesError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import type { Logger } from '../../src/core/logger.js';
import { acquireLock } from '../../src/orchestrator/lock.js';
import { createPhase2 } from '../../src/orchestrator/phase2.js';
import type { Phase2 } from '../../src/orchestrator/run.js';
import { layoutOf } from '../../src/orchestrator/layout.js';
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

test("the run saves its report while Phase 2's sandbox ends, and returns, its lock released, only once it has", async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('alpha', { version: '1.0.0' }) });
  const installRoot = path.join(tempDir(), 'updates');
  const layout = layoutOf(installRoot);
  const seen: string[] = [];
  let returned = false;
  // A Phase 2 whose sandbox ends only once the run's report is on disk (or, if the run waited for it first, after 30 s).
  const phase2: Phase2 = async (ctx) => {
    ctx.endBeside?.(
      new Promise<void>((resolve) => {
        const end = (why: string): void => {
          watcher.close();
          clearTimeout(timer);
          seen.push(why, returned ? 'run returned' : 'run not returned');
          resolve();
        };
        const watcher = watch(layout.stateDir, () => {
          if (existsSync(layout.lastReport)) end('report saved');
        });
        const timer = setTimeout(() => end('no report while the sandbox ended'), 30_000);
        if (existsSync(layout.lastReport)) end('report saved');
      }).then(() =>
        acquireLock(installRoot).then(
          (lock) => {
            seen.push('lock free');
            return lock.release();
          },
          (err: unknown) => void seen.push(err instanceof UpdatesError && err.code === 'E_LOCKED' ? 'lock held' : `lock: ${String(err)}`),
        ),
      ),
    );
  };
  const report = await runPhase1Only(installRoot, repo.url, { phase2 }).finally(() => (returned = true));
  assert.equal(report.exitCode, 0, JSON.stringify(report.errors));
  assert.deepEqual(seen, ['report saved', 'run not returned', 'lock held']);
  const lock = await acquireLock(installRoot);
  await lock.release();
});
