// Whole runs of the orchestrator (performRun) against a real local git repository, with same-run baselines
// of what the seed did: a fresh `git clone` every run, and a plain `cp -r` of the module folders to install.
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { resourceUsage } from 'node:process';
import { silentLogger } from '../../src/core/logger.js';
import { createPhase2 } from '../../src/orchestrator/phase2.js';
import { orchestratorVersion } from '../../src/orchestrator/version.js';
import { bundleModule } from '../../src/sandbox/build/bundle.js';
import type { RunReport } from '../../src/orchestrator/report.js';
import { makeRepo, moduleFiles, rootIndex } from '../../test/helpers/repo.js';
import type { TestRepo } from '../../test/helpers/repo.js';
import { runPhase1Only } from '../../test/helpers/run.js';
import type { StepHook } from '../../src/orchestrator/install.js';
import type { Compiled } from './compiled.js';
import { median, removeDir, rounds, run, sampleMemory, tempDir } from './util.js';

const nameOf = (i: number): string => `mod${String(i).padStart(3, '0')}`;

function modules(n: number, version: string): Record<string, string> {
  let files: Record<string, string> = {};
  for (let i = 0; i < n; i++) files = { ...files, ...moduleFiles(nameOf(i), { version }) };
  return files;
}

interface Setup { repo: TestRepo; installRoot: string }

function setup(tag: string, n: number): Setup {
  const repo = makeRepo({ ...rootIndex(), ...modules(n, '1.0.0') }, tempDir(`${tag}-repo`));
  return { repo, installRoot: path.join(tempDir(`${tag}-root`), 'updates') };
}

/** A problem seen in a run's report (the bench records, never asserts). */
export interface Problems { count: number; first?: string }

function check(report: RunReport, problems: Problems, expect: (r: RunReport) => string | undefined): void {
  const problem =
    report.exitCode !== 0
      ? `exit ${report.exitCode}: ${JSON.stringify(report.errors[0] ?? report.modules.find((m) => m.status !== 'ok') ?? report.updates.find((u) => u.status === 'failed'))}`
      : expect(report);
  if (problem === undefined) return;
  problems.count++;
  problems.first ??= problem;
}

const fullRun = (s: Setup): Promise<RunReport> => runPhase1Only(s.installRoot, s.repo.url, { phase2: createPhase2({ services: 'record' }) });
/** The same full run, from the compiled copy (the pool loads worker.js, no tsx). */
const compiledFullRun = (c: Compiled, s: Setup): Promise<RunReport> =>
  c.performRun({
    repoUrl: s.repo.url, branch: 'main', installRoot: s.installRoot, root: '/', checkOnly: false, wait: false,
    orchestratorVersion: orchestratorVersion(), build: c.bundleModule, logger: silentLogger(),
    phase2: c.createPhase2({ services: 'record' }),
  });
const phase1Run = (s: Setup, hook?: StepHook): Promise<RunReport> => runPhase1Only(s.installRoot, s.repo.url, hook ? { hook } : {});

/**
 * Times the install steps through the run's step hook: each hook call closes the interval since the previous
 * one and is charged to its step. The first interval of a run (sync, plan, first module's files) is left out.
 * A batch is staged while the one before is made live, so an interval holds whatever ran in it, of either.
 */
class StepClock {
  readonly totals = new Map<string, number>();
  #last: number | undefined;
  readonly hook: StepHook = (step) => {
    const now = performance.now();
    if (this.#last !== undefined) this.totals.set(step, (this.totals.get(step) ?? 0) + (now - this.#last));
    this.#last = now;
  };
}

export interface SteadyResult {
  n: number;
  fullMs: number;
  /** The full run from compiled JS (production), when measured. */
  fullCompiledMs?: number;
  phase1Ms: number;
  cloneMs: number;
  runs: { full: number[]; phase1: number[]; clone: number[]; fullCompiled?: number[] };
  memory?: { rssBeforeMb: number; peakRssMb: number; peakHeapUsedMb: number; maxRssMb: number };
}

/** Steady runs (nothing to update): full run with Phase 2, Phase 1 alone, and a fresh `git clone` baseline. */
export async function benchSteady(n: number, reps: number, warmup: number, problems: Problems, withMemory: boolean, compiled?: Compiled): Promise<SteadyResult> {
  const s = setup(`steady${n}`, n);
  check(await fullRun(s), problems, (r) => (r.updates.filter((u) => u.status === 'installed').length === n ? undefined : `initial install: ${n} expected`));
  const clones = tempDir(`steady${n}-clones`);
  const noUpdates = (r: RunReport): string | undefined =>
    r.updates.length > 0 ? `unexpected update entry ${JSON.stringify(r.updates[0])}` : r.phase2 === 'not-run' || r.modules.filter((m) => m.status === 'ok').length === n ? undefined : 'not every module ran ok';
  const fns: Record<string, (round: number) => Promise<unknown>> = {
    full: async () => check(await fullRun(s), problems, noUpdates),
    phase1: async () => check(await phase1Run(s), problems, noUpdates),
    clone: (round) => run('git', ['clone', '-q', '--branch', 'main', s.repo.url, path.join(clones, `c${round}`)]),
  };
  if (compiled !== undefined) fns['fullCompiled'] = async () => check(await compiledFullRun(compiled, s), problems, noUpdates);
  const measure = () =>
    rounds({
      warmup,
      reps,
      prepare: async () => {
        for (const d of readdirSync(clones)) removeDir(path.join(clones, d));
      },
      fns,
    });
  let runs: Awaited<ReturnType<typeof measure>>;
  let memory: SteadyResult['memory'];
  if (withMemory) {
    const rssBefore = process.memoryUsage().rss;
    const sampled = await sampleMemory(measure);
    runs = sampled.value;
    memory = {
      rssBeforeMb: rssBefore / 2 ** 20,
      peakRssMb: sampled.peakRss / 2 ** 20,
      peakHeapUsedMb: sampled.peakHeapUsed / 2 ** 20,
      maxRssMb: resourceUsage().maxRSS / 1024,
    };
  } else runs = await measure();
  const full = runs['full'] ?? [];
  const phase1 = runs['phase1'] ?? [];
  const clone = runs['clone'] ?? [];
  const fullCompiled = runs['fullCompiled'];
  return {
    n,
    fullMs: median(full),
    ...(fullCompiled !== undefined ? { fullCompiledMs: median(fullCompiled) } : {}),
    phase1Ms: median(phase1),
    cloneMs: median(clone),
    runs: { full, phase1, clone, ...(fullCompiled !== undefined ? { fullCompiled } : {}) },
    ...(memory ? { memory } : {}),
  };
}

export interface BumpedResult {
  n: number;
  installMs: number;
  /** esbuild bundling alone of the N modules, one after another (part of the install). */
  bundleMs: number;
  copyMs: number;
  runs: { install: number[]; bundle: number[]; copy: number[] };
  /** Median ms per module of each install step, by the name of the hook that ends it. */
  stepsPerModule: Record<string, number>;
}

/** Runs that install N bumped modules (Phase 1: stage, bundle, fsync, flip) vs `cp -r` of the module folders. */
export async function benchBumped(n: number, reps: number, warmup: number, problems: Problems): Promise<BumpedResult> {
  const s = setup(`bumped${n}`, n);
  check(await phase1Run(s), problems, () => undefined);
  const copies = tempDir(`bumped${n}-copies`);
  const stepRuns: Map<string, number>[] = [];
  const runs = await rounds({
    warmup,
    reps,
    prepare: async (round) => {
      for (const d of readdirSync(copies)) removeDir(path.join(copies, d));
      s.repo.commit(modules(n, `1.${round + 1}.0`), `bump ${round + 1}`);
    },
    fns: {
      install: async (round) => {
        const clock = new StepClock();
        const report = await phase1Run(s, clock.hook);
        if (round >= warmup) stepRuns.push(clock.totals);
        check(report, problems, (r) => (r.updates.filter((u) => u.status === 'updated').length === n ? undefined : `expected ${n} updated, got ${JSON.stringify(r.updates.find((u) => u.status !== 'updated'))}`));
      },
      bundle: async () => {
        for (let i = 0; i < n; i++) await bundleModule(path.join(s.repo.dir, 'modules', nameOf(i)), nameOf(i));
      },
      copy: async (round) => {
        const dest = path.join(copies, `c${round}`);
        mkdirSync(dest);
        await run('cp', ['-r', path.join(s.repo.dir, 'modules'), dest]);
      },
    },
  });
  const steps = [...new Set(stepRuns.flatMap((m) => [...m.keys()]))];
  const stepsPerModule = Object.fromEntries(steps.map((step) => [step, median(stepRuns.map((m) => m.get(step) ?? 0)) / n]));
  return { n, installMs: median(runs.install), bundleMs: median(runs.bundle), copyMs: median(runs.copy), runs, stepsPerModule };
}
