/**
 * Benchmark of updates-orchestrator. Measures, never asserts; every speed figure comes with a baseline measured
 * in the same run (the machine is shared and noisy), and the ratio between them.
 *
 *   npm run bench [-- --quick]
 *
 * 1. Cost of isolation per module: bare `new Worker()` round trip vs a warm SandboxPool (0 and 2 SDK calls),
 *    at concurrency 1 and 2; and the cold start of a pool.
 * 2. Steady run (nothing to update), 20 and 100 modules: full performRun with Phase 2 (and Phase 1 alone) vs a
 *    fresh `git clone` of the same repository (what the seed did every run).
 * 3. All N bumped: a run that installs N updated modules vs `cp -r` of the module folders (the seed's copy).
 * 4. Memory during the 100-module steady runs.
 * 5. The real CLI (`node bin/updates.js`, compiled) on steady runs of 20 and 100 modules (and 1000 without
 *    --quick): a per-stage breakdown from the run's own log, the ratio to the floor (`node -e 0` plus a no-op
 *    `git fetch` of the same clone, measured in the same rounds), `--version`, and the peak RSS of the whole
 *    process tree (orchestrator, sandbox process, git).
 *
 * 6. The real CLI on runs where every one of 20 and 100 modules (and 1000 without --quick) was bumped: install and
 *    first run of each, as compare.py's bump_all; and what one more module costs, steady and bumped.
 *
 * Prints a table, then one line `BENCH {json}`. Exits 0 unless the bench itself crashed.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { benchIsolation } from './bench/isolation.js';
import type { IsolationResult } from './bench/isolation.js';
import { SandboxPool } from '../src/sandbox/supervisor/pool.js';
import { loadCompiled } from './bench/compiled.js';
import type { Compiled } from './bench/compiled.js';
import { benchBumped, benchSteady } from './bench/orchestrator.js';
import type { BumpedResult, Problems, SteadyResult } from './bench/orchestrator.js';
import { cleanupTempDirs, round1, round2 } from './bench/util.js';
import { benchCliBumped, benchCliSteady, STAGE_NOTES } from './bench/cli-run.js';
import type { CliBumpedResult, CliSteadyResult } from './bench/cli-run.js';

const quick = process.argv.includes('--quick');

const CONFIG = quick
  ? { isoReps: 3, bareModules: 16, sandboxModules: 40, coldReps: 2, steadyN: [20, 100], steadyReps: 2, bumpedN: [20], bumpedReps: 3, warmup: 1, cliN: [20, 100], cliReps: 3, cliBumped: [[20, 3], [100, 3]] as [number, number][] }
  : { isoReps: 5, bareModules: 40, sandboxModules: 100, coldReps: 3, steadyN: [20, 100], steadyReps: 5, bumpedN: [20, 100], bumpedReps: 5, warmup: 1, cliN: [20, 100, 1000], cliReps: 5, cliBumped: [[20, 5], [100, 5], [1000, 2]] as [number, number][] };

/** The seed's own figures on this machine (ARCHITECTURE.md), for context only: not measured here. */
const SEED_MS: Record<string, number> = { steady20: 190, steady100: 633, bumped100: 972 };

/** What happens before each install step's hook (src/orchestrator/install.ts, phase1.ts). */
const STEP_LABELS: Record<string, string> = {
  'files-written': 'files from commit to staging',
  staged: 'manifest, esbuild (one call per batch), fsync of the batch',
  'version-published': 'rename',
  'previous-recorded': 'record rollback target',
  'trial-recorded': 'trial mark; the versions folders of the batch fsynced together',
  flipped: 'symlink flip',
  'index-written': 'fsync of modules folder, global index rewrite (once per batch)',
};

const log = (line: string): void => console.log(line);

interface Row { section: string; what: string; value: string; baseline: string; ratio: string }

function table(rows: Row[]): string {
  const head: Row = { section: 'section', what: 'measurement', value: 'value', baseline: 'baseline (same run)', ratio: 'ratio' };
  const cols = ['section', 'what', 'value', 'baseline', 'ratio'] as const;
  const width = Object.fromEntries(cols.map((c) => [c, Math.max(...[head, ...rows].map((r) => r[c].length))])) as Record<(typeof cols)[number], number>;
  const line = (r: Row): string => cols.map((c) => (c === 'value' || c === 'ratio' ? r[c].padStart(width[c]) : r[c].padEnd(width[c]))).join(' | ');
  return [line(head), cols.map((c) => '-'.repeat(width[c])).join('-+-'), ...rows.map(line)].join('\n');
}

const ms = (x: number, digits = 1): string => `${x.toFixed(digits)} ms`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;

async function main(): Promise<void> {
  const t0 = performance.now();
  const gitVersion = execFileSync('git', ['--version'], { encoding: 'utf8' }).trim();
  log(`updates-orchestrator bench${quick ? ' (--quick)' : ''}: node ${process.version}, ${os.availableParallelism()} cores, ${gitVersion}, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  log(`median of ${CONFIG.steadyReps} repetitions (isolation: ${CONFIG.isoReps}) after warm-up; baselines interleaved with the subject in every round\n`);
  const problems: Problems = { count: 0 };
  const rows: Row[] = [];

  let compiled: Compiled | undefined;
  try {
    const tc = performance.now();
    compiled = await loadCompiled();
    log(`built dist/ (npm run build) in ${(performance.now() - tc).toFixed(0)} ms, for the production-like figures`);
  } catch (err) {
    log(`could not compile src/ for the production-like figures (skipped): ${err instanceof Error ? err.message : String(err)}`);
  }

  log('1. cost of isolation (per module)');
  const iso: IsolationResult = await benchIsolation({
    bareModules: CONFIG.bareModules,
    sandboxModules: CONFIG.sandboxModules,
    reps: CONFIG.isoReps,
    coldReps: CONFIG.coldReps,
    concurrencies: [1, 2],
    sdkCallVariants: [0, 2],
    coldPools: { source: SandboxPool, ...(compiled !== undefined ? { compiled: compiled.SandboxPool } : {}) },
    log,
  });
  problems.count += iso.failures;
  for (const c of [1, 2]) {
    const bare = iso.bare[c] ?? Number.NaN;
    rows.push({ section: 'isolation', what: `bare new Worker() round trip, conc ${c}`, value: ms(bare, 2), baseline: '', ratio: '' });
    for (const k of [0, 2]) {
      const sb = iso.sandbox[`c${c}_sdk${k}`] ?? Number.NaN;
      rows.push({ section: 'isolation', what: `warm SandboxPool, ${k} SDK calls, conc ${c}`, value: ms(sb, 3), baseline: `bare ${ms(bare, 2)}`, ratio: ratio(sb, bare) });
    }
  }
  for (const [key, value] of Object.entries(iso.coldStart)) {
    const [label, size] = key.split('_size');
    const how = label === 'source' ? 'from source, worker via tsx' : 'compiled, worker.js';
    const bare = iso.bare[Number(size)] ?? Number.NaN;
    rows.push({ section: 'isolation', what: `cold start, pool of ${size}, ${size} module(s) (${how})`, value: ms(value, 0), baseline: `bare conc ${size} ${ms(bare, 2)}`, ratio: ratio(value, bare) });
  }

  const steady: SteadyResult[] = [];
  for (const n of CONFIG.steadyN) {
    log(`2. steady run, ${n} modules`);
    const r = await benchSteady(n, CONFIG.steadyReps, CONFIG.warmup, problems, n === 100, compiled);
    log(`  full: ${r.runs.full.map((x) => x.toFixed(0)).join(', ')} ms; phase 1 only: ${r.runs.phase1.map((x) => x.toFixed(0)).join(', ')} ms; git clone: ${r.runs.clone.map((x) => x.toFixed(0)).join(', ')} ms${r.runs.fullCompiled ? `; full, compiled: ${r.runs.fullCompiled.map((x) => x.toFixed(0)).join(', ')} ms` : ''}`);
    steady.push(r);
    const seed = SEED_MS[`steady${n}`];
    rows.push({ section: 'steady', what: `${n} modules, full run (Phase 1 + 2)`, value: ms(r.fullMs, 0), baseline: `git clone ${ms(r.cloneMs, 0)}`, ratio: ratio(r.fullMs, r.cloneMs) });
    if (r.fullCompiledMs !== undefined) rows.push({ section: 'steady', what: `${n} modules, full run, compiled (production)`, value: ms(r.fullCompiledMs, 0), baseline: `git clone ${ms(r.cloneMs, 0)}`, ratio: ratio(r.fullCompiledMs, r.cloneMs) });
    rows.push({ section: 'steady', what: `${n} modules, Phase 1 only`, value: ms(r.phase1Ms, 0), baseline: `git clone ${ms(r.cloneMs, 0)}`, ratio: ratio(r.phase1Ms, r.cloneMs) });
    rows.push({ section: 'steady', what: `${n} modules, Phase 2 share (full - Phase 1)`, value: ms(r.fullMs - r.phase1Ms, 0), baseline: seed !== undefined ? `(seed noted: ${seed} ms full)` : '', ratio: '' });
  }

  const bumped: BumpedResult[] = [];
  for (const n of CONFIG.bumpedN) {
    log(`3. all ${n} bumped`);
    const r = await benchBumped(n, CONFIG.bumpedReps, CONFIG.warmup, problems);
    log(`  install run: ${r.runs.install.map((x) => x.toFixed(0)).join(', ')} ms; esbuild alone: ${r.runs.bundle.map((x) => x.toFixed(0)).join(', ')} ms; cp -r: ${r.runs.copy.map((x) => x.toFixed(0)).join(', ')} ms`);
    bumped.push(r);
    const seed = SEED_MS[`bumped${n}`];
    rows.push({ section: 'bumped', what: `${n} modules, install run (Phase 1), total`, value: ms(r.installMs, 0), baseline: `cp -r ${ms(r.copyMs, 0)}${seed !== undefined ? ` (seed noted: ${seed} ms full)` : ''}`, ratio: ratio(r.installMs, r.copyMs) });
    rows.push({ section: 'bumped', what: `${n} modules, install run, per module`, value: ms(r.installMs / n, 2), baseline: `cp -r ${ms(r.copyMs / n, 2)}`, ratio: ratio(r.installMs, r.copyMs) });
    const steps = [...Object.keys(STEP_LABELS).filter((k) => k in r.stepsPerModule), ...Object.keys(r.stepsPerModule).filter((k) => !(k in STEP_LABELS))];
    for (const step of steps) {
      rows.push({ section: 'bumped', what: `${n}: step "${step}" (${STEP_LABELS[step] ?? '?'}), per module`, value: ms(r.stepsPerModule[step] ?? Number.NaN, 2), baseline: '', ratio: '' });
    }
    rows.push({ section: 'bumped', what: `${n} modules, esbuild bundling alone, per module`, value: ms(r.bundleMs / n, 2), baseline: `cp -r ${ms(r.copyMs / n, 2)}`, ratio: ratio(r.bundleMs, r.copyMs) });
  }

  const mem = steady.find((s) => s.memory !== undefined)?.memory;
  if (mem !== undefined) {
    rows.push({ section: 'memory', what: '100-module steady runs: peak RSS (sampled)', value: `${mem.peakRssMb.toFixed(0)} MB`, baseline: `RSS before ${mem.rssBeforeMb.toFixed(0)} MB`, ratio: '' });
    rows.push({ section: 'memory', what: '100-module steady runs: peak heap used (main)', value: `${mem.peakHeapUsedMb.toFixed(0)} MB`, baseline: '', ratio: '' });
    rows.push({ section: 'memory', what: 'process maxRSS so far (resourceUsage)', value: `${mem.maxRssMb.toFixed(0)} MB`, baseline: '', ratio: '' });
  }

  const cli: CliSteadyResult[] = [];
  const bumpedCli: CliBumpedResult[] = [];
  if (compiled !== undefined) {
    execFileSync(process.execPath, ['scripts/prebuild-sandbox.mjs'], { cwd: compiled.root, stdio: 'ignore' });
    for (const n of CONFIG.cliN) {
      log(`5. the CLI, steady run, ${n} modules`);
      const r = await benchCliSteady(n, CONFIG.cliReps, CONFIG.warmup, true);
      problems.count += r.failures;
      cli.push(r);
      const floor = r.nodeMs + r.fetchMs;
      rows.push({ section: 'cli', what: `${n} modules, steady \`updates run\` (whole process)`, value: ms(r.totalMs, 0), baseline: `floor ${ms(floor, 0)} (node -e 0 ${ms(r.nodeMs, 0)} + no-op fetch ${ms(r.fetchMs, 0)})`, ratio: ratio(r.totalMs, floor) });
      for (const [stage, value] of Object.entries(r.stages)) {
        const per = stage === 'other modules' ? ', per module' : '';
        rows.push({ section: 'cli', what: `${n}: ${stage}${per} (${STAGE_NOTES[stage] ?? ''})`, value: ms(value, stage === 'other modules' ? 2 : 0), baseline: '', ratio: '' });
      }
      if (r.sandboxStartMs !== undefined) rows.push({ section: 'cli', what: `${n}: sandbox process start (while Phase 1 runs)`, value: ms(r.sandboxStartMs, 0), baseline: '', ratio: '' });
      rows.push({ section: 'cli', what: `${n}: updates --version`, value: ms(r.versionMs, 0), baseline: `node -e 0 ${ms(r.nodeMs, 0)}`, ratio: ratio(r.versionMs, r.nodeMs) });
      if (r.peakTreeRssMb !== undefined) rows.push({ section: 'cli', what: `${n}: peak RSS, whole process tree`, value: `${r.peakTreeRssMb.toFixed(0)} MB`, baseline: '', ratio: '' });
    }
    // What one more module costs a steady run: the slope between each N and the next (medians of noisy runs, so
    // a small step can even come out negative; the larger the step, the more it says).
    cli.slice(1).forEach((c, i) => {
      const prev = cli[i] as CliSteadyResult;
      rows.push({ section: 'cli', what: `steady, cost per extra module (${prev.n} → ${c.n})`, value: ms((c.totalMs - prev.totalMs) / (c.n - prev.n), 2), baseline: '', ratio: '' });
    });
    for (const [n, reps] of CONFIG.cliBumped) {
      log(`6. the CLI, every one of ${n} modules bumped`);
      const r = await benchCliBumped(n, reps, n >= 1000 ? 0 : CONFIG.warmup);
      problems.count += r.failures;
      bumpedCli.push(r);
      rows.push({ section: 'cli', what: `${n} modules all bumped: install and run (whole process)`, value: ms(r.totalMs, 0), baseline: `node -e 0 ${ms(r.nodeMs, 0)}`, ratio: ratio(r.totalMs, r.nodeMs) });
      rows.push({ section: 'cli', what: `${n} modules all bumped, per module`, value: ms(r.totalMs / n, 2), baseline: '', ratio: '' });
    }
    bumpedCli.slice(1).forEach((b, i) => {
      const prev = bumpedCli[i] as CliBumpedResult;
      rows.push({ section: 'cli', what: `all bumped, cost per extra module (${prev.n} → ${b.n})`, value: ms((b.totalMs - prev.totalMs) / (b.n - prev.n), 2), baseline: '', ratio: '' });
    });
  } else log('5. the CLI: skipped (dist/ could not be built)');

  const totalS = (performance.now() - t0) / 1000;
  log('');
  log(table(rows));
  if (problems.count > 0) log(`\nnote: ${problems.count} run(s) or module(s) did not end as expected; first: ${problems.first ?? '(a sandbox module was not ok)'}`);
  log(`\ntotal ${totalS.toFixed(1)} s`);

  const summary = {
    quick,
    node: process.version,
    cores: os.availableParallelism(),
    isolation: {
      bare_ms: Object.fromEntries(Object.entries(iso.bare).map(([c, v]) => [`c${c}`, round2(v)])),
      sandbox_ms: Object.fromEntries(Object.entries(iso.sandbox).map(([k, v]) => [k, Math.round(v * 1000) / 1000])),
      ratio_sandbox_over_bare: Object.fromEntries(
        Object.entries(iso.sandbox).map(([k, v]) => [k, Math.round((v / (iso.bare[Number(k.slice(1, k.indexOf('_')))] ?? Number.NaN)) * 1000) / 1000]),
      ),
      cold_start_ms: Object.fromEntries(Object.entries(iso.coldStart).map(([k, v]) => [k, round1(v)])),
    },
    steady: Object.fromEntries(
      steady.map((s) => [`n${s.n}`, { full_ms: round1(s.fullMs), ...(s.fullCompiledMs !== undefined ? { full_compiled_ms: round1(s.fullCompiledMs), ratio_full_compiled_over_clone: round2(s.fullCompiledMs / s.cloneMs) } : {}), phase1_ms: round1(s.phase1Ms), clone_ms: round1(s.cloneMs), ratio_full_over_clone: round2(s.fullMs / s.cloneMs), ratio_phase1_over_clone: round2(s.phase1Ms / s.cloneMs) }]),
    ),
    bumped: Object.fromEntries(
      bumped.map((b) => [`n${b.n}`, { install_ms: round1(b.installMs), install_ms_per_module: round2(b.installMs / b.n), bundle_ms_per_module: round2(b.bundleMs / b.n), steps_ms_per_module: Object.fromEntries(Object.entries(b.stepsPerModule).map(([k, v]) => [k, round2(v)])), cp_ms: round1(b.copyMs), ratio_install_over_cp: round2(b.installMs / b.copyMs) }]),
    ),
    memory: mem !== undefined ? { peak_rss_mb: round1(mem.peakRssMb), peak_heap_used_mb: round1(mem.peakHeapUsedMb), rss_before_mb: round1(mem.rssBeforeMb), max_rss_mb: round1(mem.maxRssMb) } : null,
    cli_steady: Object.fromEntries(
      cli.map((c) => [`n${c.n}`, {
        total_ms: round1(c.totalMs), floor_ms: round1(c.nodeMs + c.fetchMs), node_ms: round1(c.nodeMs), fetch_ms: round1(c.fetchMs), ratio_to_floor: round2(c.totalMs / (c.nodeMs + c.fetchMs)),
        version_ms: round1(c.versionMs), stages_ms: Object.fromEntries(Object.entries(c.stages).map(([k, v]) => [k, round2(v)])),
        ...(c.sandboxStartMs !== undefined ? { sandbox_start_ms: c.sandboxStartMs } : {}), ...(c.peakTreeRssMb !== undefined ? { peak_tree_rss_mb: round1(c.peakTreeRssMb) } : {}),
      }]),
    ),
    cli_bumped: Object.fromEntries(bumpedCli.map((b) => [`n${b.n}`, { total_ms: round1(b.totalMs), per_module_ms: round2(b.totalMs / b.n), node_ms: round1(b.nodeMs) }])),
    problems: problems.count,
    total_s: round1(totalS),
  };
  log(`BENCH ${JSON.stringify(summary)}`);
}

try {
  await main();
} catch (err) {
  console.error('bench crashed:', err);
  process.exitCode = 1;
} finally {
  cleanupTempDirs();
}
