// Steady runs of the real `updates` command (node bin/updates.js, compiled dist/), as a timer starts it: the
// per-stage breakdown read from its own log, and the floor measured in the same rounds (`node -e 0` and a
// no-op `git fetch` of the same clone). Peak RSS is the whole process tree's (orchestrator, sandbox process,
// git), sampled from /proc in a run of its own so the sampling does not slow the timed runs.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { layoutOf } from '../../src/orchestrator/layout.js';
import { median, rounds, run, tempDir } from './util.js';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(PROJECT, 'bin', 'updates.js');
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@l', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@l' };

/** The stages of one steady run, ms, from the run's own log lines (see STAGES). */
export type Stages = Record<(typeof STAGES)[number]['name'], number>;

/** Each stage ends at the first log line matching `to`, and starts where the one before it ended. */
const STAGES = [
  { name: 'start-up', to: /^starting update orchestration/, what: 'node, loading the CLI, settings, lock' },
  { name: 'prepare', to: /^syncing repository/, what: 'obstacles, journal' },
  { name: 'sync', to: /^orchestrator: running/, what: 'fetch and commit read, beside leftovers, installed modules read and verified, index' },
  { name: 'plan', to: /^schema updates needed/, what: 'semver plan' },
  { name: 'to Phase 2', to: /^running \d+ enabled module/, what: 'journal, self-update check' },
  { name: 'first module', to: /^✓ module /, what: 'incl. any wait for the sandbox' },
  { name: 'other modules', to: /^module execution completed/, what: 'the N-1 others' },
  { name: 'report', to: /$^/, what: 'index, journal, report, metrics, sandbox stop, exit' },
] as const;

export const STAGE_NOTES: Readonly<Record<string, string>> = Object.fromEntries(STAGES.map((s) => [s.name, s.what]));

interface Setup { dir: string; remote: string; root: string; clone: string; n: number; bin: string }

/** A bare remote with N trivial modules (each logs one line through the SDK), and an install root fed from it. */
function setup(n: number, bin: string): Setup {
  const dir = tempDir(`cli${n}`);
  const work = path.join(dir, 'work');
  writeModules(work, n);
  const git = (...args: string[]): void => void execFileSync('git', args, { cwd: work, env: GIT_ENV, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'v1');
  const remote = path.join(dir, 'remote.git');
  execFileSync('git', ['clone', '-q', '--bare', work, remote], { env: GIT_ENV, stdio: 'ignore' });
  const root = path.join(dir, 'root');
  mkdirSync(root);
  return { dir, remote, root, clone: layoutOf(path.join(root, 'inst')).repoDir, n, bin };
}

function writeModules(work: string, n: number, version = '1.0.1'): void {
  mkdirSync(path.join(work, 'modules'), { recursive: true });
  writeFileSync(path.join(work, 'index.json'), JSON.stringify({ metadata: { schema_version: '0.0.1', channel: 'stable' } }));
  for (let i = 1; i <= n; i++) {
    const name = `mod${String(i).padStart(4, '0')}`;
    const m = path.join(work, 'modules', name);
    mkdirSync(m, { recursive: true });
    writeFileSync(path.join(m, 'index.json'), JSON.stringify({ metadata: { schema_version: version, name, description: 'synthetic', enabled: true, priority: i } }));
    writeFileSync(path.join(m, 'index.ts'), "import { log } from 'updates-orchestrator/sdk';\nexport async function main() {\n  log.info('synthetic module ran');\n  return { success: true };\n}\n");
  }
}

interface CliRun { ms: number; code: number | null; stderr: string; startedAt: number; endedAt: number; peakTreeRssMb?: number }

/** One `updates run`, as compare.py runs it; `sampleRss`: peak RSS of the whole process tree, every 10 ms. */
function cliRun(s: Setup, level: string, sampleRss = false): Promise<CliRun> {
  const args = [s.bin, '--repo-url', `file://${s.remote}`, '--modules-path', '/inst', '--root', s.root, '--branch', 'main', '--services', 'record', '--json'];
  return new Promise((resolve, reject) => {
    const startedAt = Date.now();
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: s.dir, env: { ...process.env, UPDATES_LOG_LEVEL: level }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peak = 0;
    const timer = sampleRss && child.pid !== undefined ? setInterval(() => (peak = Math.max(peak, treeRssKb(child.pid as number))), 10) : undefined;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (timer !== undefined) clearInterval(timer);
      resolve({ ms: performance.now() - t0, code, stderr, startedAt, endedAt: Date.now(), ...(sampleRss ? { peakTreeRssMb: peak / 1024 } : {}) });
    });
  });
}

/** Sum of VmRSS (kB) of `pid` and all its descendants, from /proc. */
function treeRssKb(pid: number): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      rss.set(Number(entry), Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0));
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  const todo = [pid];
  for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
    total += rss.get(p) ?? 0;
    todo.push(...(children.get(p) ?? []));
  }
  return total;
}

/** The stages of one run from its log (pino JSON lines: `time` in ms, `msg`). */
function stagesOf(r: CliRun, n: number): Stages | undefined {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { time: number; msg: string });
  const out: Partial<Record<string, number>> = {};
  let from = r.startedAt;
  for (const stage of STAGES) {
    const at = stage.name === 'report' ? r.endedAt : lines.find((l) => l.time >= from && stage.to.test(l.msg))?.time;
    if (at === undefined) return undefined;
    out[stage.name] = at - from;
    from = at;
  }
  if (n > 1) out['other modules'] = (out['other modules'] ?? 0) / (n - 1);
  return out as Stages;
}

export interface CliSteadyResult {
  n: number;
  totalMs: number;
  /** Median of each stage; 'other modules' is per module. */
  stages: Stages;
  nodeMs: number;
  fetchMs: number;
  versionMs: number;
  /** How long the sandbox process took to start (debug log), started while Phase 1 runs. */
  sandboxStartMs?: number;
  peakTreeRssMb?: number;
  failures: number;
}

/**
 * `reps` steady runs of N modules after an installing run, interleaved with the floor and `updates --version`.
 * `bin`: the launcher to run (default this checkout's; another checkout's, to compare two builds).
 */
export async function benchCliSteady(n: number, reps: number, warmup: number, withRss: boolean, bin = BIN): Promise<CliSteadyResult> {
  const s = setup(n, bin);
  let failures = 0;
  const first = await cliRun(s, 'warn');
  if (first.code !== 0) failures++;
  const stages: Stages[] = [];
  const runs = await rounds({
    warmup,
    reps,
    fns: {
      steady: async () => {
        const r = await cliRun(s, 'info');
        const st = stagesOf(r, n);
        if (r.code !== 0 || st === undefined) failures++;
        else stages.push(st);
      },
      node: () => run(process.execPath, ['-e', '0']),
      fetch: () => run('git', ['--git-dir', s.clone, 'fetch', '-q', `file://${s.remote}`, '+refs/heads/main:refs/remotes/origin/main']),
      version: () => run(process.execPath, [bin, '--version']),
    },
  });
  const debug = await cliRun(s, 'debug');
  const started = /"ms":(\d+)[^\n]*sandbox process 1 started/.exec(debug.stderr)?.[1];
  const rss = withRss ? await cliRun(s, 'warn', true) : undefined;
  const timed = stages.slice(-reps);
  const stageMedians = Object.fromEntries(STAGES.map((st) => [st.name, median(timed.map((x) => x[st.name]))])) as Stages;
  return {
    n,
    totalMs: median(runs.steady),
    stages: stageMedians,
    nodeMs: median(runs.node),
    fetchMs: median(runs.fetch),
    versionMs: median(runs.version),
    ...(started !== undefined ? { sandboxStartMs: Number(started) } : {}),
    ...(rss?.peakTreeRssMb !== undefined ? { peakTreeRssMb: rss.peakTreeRssMb } : {}),
    failures,
  };
}

export interface CliBumpedResult {
  n: number;
  /** Median of whole runs that install N bumped modules and run them (each on its first run). */
  totalMs: number;
  nodeMs: number;
  failures: number;
}

/**
 * `reps` runs of the CLI, each after a commit that bumps every one of the N modules (as compare.py's bump_all), so
 * each run installs N modules and then runs them all on trial; interleaved with `node -e 0`.
 */
export async function benchCliBumped(n: number, reps: number, warmup: number, bin = BIN): Promise<CliBumpedResult> {
  const s = setup(n, bin);
  const work = path.join(s.dir, 'work');
  const git = (...args: string[]): void => void execFileSync('git', args, { cwd: work, env: GIT_ENV, stdio: 'ignore' });
  let failures = 0;
  if ((await cliRun(s, 'warn')).code !== 0) failures++;
  const runs = await rounds({
    warmup,
    reps,
    prepare: async (round) => {
      writeModules(work, n, `1.0.${round + 2}`);
      git('commit', '-qam', `bump ${round}`);
      git('push', '-q', s.remote, 'main');
    },
    fns: {
      bumped: async () => {
        if ((await cliRun(s, 'warn')).code !== 0) failures++;
      },
      // No fetch here: one into the same clone would take the new commit's objects ahead of the run.
      node: () => run(process.execPath, ['-e', '0']),
    },
  });
  return { n, totalMs: median(runs.bumped), nodeMs: median(runs.node), failures };
}
