// Cost of isolation per module: a bare `new Worker()` round trip vs a warm SandboxPool (piscina + SES Compartment).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { silentLogger } from '../../src/core/logger.js';
import { bundleModule } from '../../src/sandbox/build/bundle.js';
import { SandboxPool } from '../../src/sandbox/supervisor/pool.js';
import type { JobBroker, ModuleJob, SandboxPoolOptions } from '../../src/sandbox/supervisor/pool.js';
import { median, tempDir, timed } from './util.js';

/** Runs `count` tasks with at most `concurrency` in flight. */
export async function runLimited(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

const BARE_WORKER_CODE = "require('node:worker_threads').parentPort.postMessage(1);";

/** One bare worker round trip: spawn, wait for its message, terminate. */
async function bareRoundTrip(): Promise<void> {
  const w = new Worker(BARE_WORKER_CODE, { eval: true });
  await new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', reject);
  });
  await w.terminate();
}

/** The trivial broker of the brief: answers every request with an empty success. */
function fakeBroker(): JobBroker {
  return { handle: async (m) => ({ v: 1, id: (m as { id: number }).id, ok: true, result: null }), close() {} };
}

function moduleSource(sdkCalls: number): string {
  const calls = Array.from({ length: sdkCalls }, (_, i) => `  await log.info('call ${i}');`).join('\n');
  return `import { log } from 'updates-orchestrator/sdk';\nexport async function main(): Promise<{ success: boolean }> {\n  void log;\n${calls}\n  return { success: true };\n}\n`;
}

/** Bundles the trivial module with `sdkCalls` log.info calls, with the real bundler. */
export async function bundleTrivial(sdkCalls: number): Promise<string> {
  const dir = path.join(tempDir('iso-mod'), `trivial${sdkCalls}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'index.ts'), moduleSource(sdkCalls));
  return bundleModule(dir, `trivial${sdkCalls}`);
}

function jobOf(name: string, code: string): ModuleJob {
  return { module: name, code, configuration: {}, args: [], timeoutMs: 30_000, maxMemoryMb: 128, broker: fakeBroker() };
}

export interface IsolationResult {
  bare: Record<number, number>;
  sandbox: Record<string, number>;
  /** `<source|compiled>_size<n>`: ms until a new pool of n workers has run n modules at once. */
  coldStart: Record<string, number>;
  failures: number;
}

export interface IsolationOptions {
  bareModules: number;
  sandboxModules: number;
  reps: number;
  coldReps: number;
  concurrencies: number[];
  sdkCallVariants: number[];
  /** Pool classes to measure the cold start of, by label. */
  coldPools: Record<string, new (options: SandboxPoolOptions) => SandboxPool>;
  log: (line: string) => void;
}

/** ms per module: median over `reps` batches of `count` modules, after one warm-up batch. */
async function perModule(reps: number, count: number, batch: () => Promise<void>): Promise<{ ms: number; runs: number[] }> {
  await batch();
  const runs: number[] = [];
  for (let r = 0; r < reps; r++) runs.push((await timed(batch)) / count);
  return { ms: median(runs), runs };
}

export async function benchIsolation(o: IsolationOptions): Promise<IsolationResult> {
  const result: IsolationResult = { bare: {}, sandbox: {}, coldStart: {}, failures: 0 };
  const codes = new Map<number, string>();
  for (const k of o.sdkCallVariants) codes.set(k, await bundleTrivial(k));
  const firstCode = codes.get(o.sdkCallVariants[0] ?? 0) ?? '';

  // Cold start: a new pool's first modules (worker spawn, tsx registration when run from source, SES lockdown),
  // for each pool implementation (from source, compiled), with 1 worker and with 2 started at once.
  for (const [label, Pool] of Object.entries(o.coldPools)) {
    for (const size of [1, 2]) {
      const runs: number[] = [];
      for (let r = 0; r < o.coldReps; r++) {
        const pool = new Pool({ size, logger: silentLogger() });
        runs.push(
          await timed(() =>
            Promise.all(
              Array.from({ length: size }, async (_, i) => {
                if ((await pool.run(jobOf(`cold${i}`, firstCode))).status !== 'ok') result.failures++;
              }),
            ),
          ),
        );
        await pool.destroy();
      }
      result.coldStart[`${label}_size${size}`] = median(runs);
      o.log(`  cold start, ${label}, pool of ${size} (${size} module(s) at once): ${runs.map((x) => x.toFixed(0)).join(', ')} ms`);
    }
  }

  for (const c of o.concurrencies) {
    const bare = await perModule(o.reps, o.bareModules, () => runLimited(o.bareModules, c, () => bareRoundTrip()));
    result.bare[c] = bare.ms;
    o.log(`  bare worker, concurrency ${c}: ${bare.runs.map((x) => x.toFixed(2)).join(', ')} ms/module`);

    const pool = new SandboxPool({ size: c, logger: silentLogger() });
    try {
      // Warm every worker of the pool (spawn + lockdown) before measuring.
      await runLimited(4 * c, c, async (i) => {
        if ((await pool.run(jobOf(`warm${i}`, firstCode))).status !== 'ok') result.failures++;
      });
      for (const k of o.sdkCallVariants) {
        const code = codes.get(k) ?? '';
        const sb = await perModule(o.reps, o.sandboxModules, () =>
          runLimited(o.sandboxModules, c, async (i) => {
            if ((await pool.run(jobOf(`m${i}`, code))).status !== 'ok') result.failures++;
          }),
        );
        result.sandbox[`c${c}_sdk${k}`] = sb.ms;
        o.log(`  sandbox, concurrency ${c}, ${k} SDK calls: ${sb.runs.map((x) => x.toFixed(3)).join(', ')} ms/module`);
      }
    } finally {
      await pool.destroy();
    }
  }
  return result;
}
