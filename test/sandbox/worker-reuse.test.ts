// The sandbox process and its workers: a job sent while the only worker is still letting go of the run before
// waits for that worker, instead of making piscina start another one (on a small machine, a worker's start takes
// a core from the modules running); jobs that do run at once still get a worker each.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { DEFAULTS } from '../../src/core/defaults.js';
import { SandboxPool } from '../../src/sandbox/supervisor/pool.js';
import { FakeBroker, job } from './helpers.js';

const LINGERING_WORKER = fileURLToPath(new URL('./lingering-worker.ts', import.meta.url));
/** How long the first job's task stays in flight after its run ended: far longer than a worker takes to start. */
const LINGER_MS = '3000';
/** A module whose first act is an SDK request (not a log line, which its worker answers itself). */
const ASKS_CLOCK = 'const { clock } = require("updates-orchestrator/sdk"); module.exports.main = async () => { await clock.now(); return { success: true }; };';
/** The memory class the sandbox process starts a worker of ahead; every job here is of it. */
const CLASS_MB = DEFAULTS.moduleMaxMemoryMb;

const pools: SandboxPool[] = [];
after(() => Promise.all(pools.map((p) => p.destroy())));

/**
 * A two-worker process pool (on the lingering worker, or with `workerEntry` undefined the real one); `started`
 * resolves once its process reports `n` workers started.
 */
function countingPool(workerEntry: string | undefined = LINGERING_WORKER): { pool: SandboxPool; workersStarted: () => number; started: (n: number) => Promise<void> } {
  let count = 0;
  const waiting: { n: number; resolve: () => void }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) {
        if (l.trim() === '' || !/sandbox process: worker started/.test(String((JSON.parse(l) as { msg?: unknown }).msg))) continue;
        count += 1;
        for (const w of waiting.filter((x) => x.n <= count)) w.resolve();
      }
      done();
    },
  });
  const pool = new SandboxPool({ size: 2, logger: pino({ level: 'debug', base: null }, sink), isolation: 'process', ...(workerEntry !== undefined ? { workerEntry } : {}) });
  pools.push(pool);
  return { pool, workersStarted: () => count, started: (n) => new Promise<void>((resolve) => (count >= n ? resolve() : waiting.push({ n, resolve }))) };
}

function lingering(name: string, ms: string): ReturnType<typeof job> {
  return job(name, '', { args: [ms], maxMemoryMb: CLASS_MB });
}

test('a job sent while the busy worker lets go of its last run waits for that worker: no second worker starts', async () => {
  const { pool, workersStarted } = countingPool();
  const first = await pool.start(lingering('first', LINGER_MS)).outcome;
  assert.equal(first.status, 'ok', JSON.stringify(first));
  // Sent as soon as the first settled in main, while its task is still in flight in the sandbox process.
  const second = await pool.start(lingering('second', '0')).outcome;
  assert.equal(second.status, 'ok', JSON.stringify(second));
  assert.equal(workersStarted(), 1);
  await pool.destroy();
});

test('two jobs at once get a worker each', async () => {
  const { pool, started } = countingPool(undefined);
  // The first module's clock request is answered only once the second module has made its own: so the second
  // runs while the first still does, on a worker of its own.
  let secondAsked: () => void = () => undefined;
  const asked = new Promise<void>((resolve) => (secondAsked = resolve));
  const first = job('a', ASKS_CLOCK, { maxMemoryMb: CLASS_MB, broker: new FakeBroker(undefined, () => asked) });
  const second = job('b', ASKS_CLOCK, { maxMemoryMb: CLASS_MB, broker: new FakeBroker(undefined, () => { secondAsked(); return Promise.resolve(); }) });
  const outcomes = await Promise.all([pool.start(first).outcome, pool.start(second).outcome]);
  assert.deepEqual(outcomes.map((o) => o.status), ['ok', 'ok']);
  await started(2);
  await pool.destroy();
});
