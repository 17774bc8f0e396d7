/**
 * Phase 2, service management: run the main() of every enabled module, in priority order, each in the
 * sandbox with its own broker. A module updated in this run that fails is rolled back to its previous version,
 * which then runs once; the failed version is held so later runs do not install it again.
 */
import { promises as fsp, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModuleBroker, resolveOwnFiles } from '../broker/broker.js';
import type { OwnFiles } from '../broker/paths.js';
import { recordingBackend, systemctlBackend } from '../broker/services.js';
import type { ServiceBackend } from '../broker/services.js';
import type { SandboxPool } from '../sandbox/supervisor/pool.js';
import { poolOf } from './phase2-pool.js';
import type { JobHandle, ModuleJob, ModuleOutcome } from '../sandbox/supervisor/pool.js';
import { DEFAULTS } from '../core/defaults.js';
import type { PlannedChange } from '../broker/planner.js';
import { UpdatesError } from '../core/errors.js';
import { messageOf } from '../core/errors.js';
import { endTrial, onTrial, rollback, writeFiles } from './install.js';
import { interruptedBy, onInterrupt } from './interrupt.js';
import { writeJournal } from './journal.js';
import { readInstalled, readOne } from './installed.js';
import type { InstalledModule } from './installed.js';
import { BUNDLE_FILE } from './layout.js';
import type { Logger } from '../core/logger.js';
import type { Capabilities, ModuleManifest } from '../core/manifest.js';
import type { RemoteModule } from './snapshot.js';
import type { ModuleEntry } from './report.js';
import type { Phase2, Phase2Context } from './run.js';

/** How modules run: the service backend, the pool size and a timeout override. Phase 2 and legacy mode share it. */
export interface Phase2Options {
  services: 'systemctl' | 'record';
  poolSize?: number;
  /** Overrides every module's metadata.timeout_seconds. */
  moduleTimeoutSeconds?: number;
  /** The sandbox process's user (default: updates-sandbox if it exists, else nobody). */
  sandboxUser?: string;
  /** The sandbox process's memory cap, MB (cgroup, and RLIMIT_DATA where it works). */
  sandboxMemoryMb?: number;
  /** The orchestrator's own files outside the install root (a custom local repository, the allowed-signers and config files): no grant reaches them. */
  ownFiles?: readonly string[];
}

/** Where a run's modules act: the --root mapping, the state folder (stores, backups) and the run's logger. */
export interface SandboxScope {
  root: string;
  stateDir: string;
  logger: Logger;
  ownFiles?: readonly string[];
  /** Where the sandbox's end goes to finish beside what follows (see Phase2Context.endBeside); else it is awaited. */
  endBeside?: ((teardown: Promise<void>) => void) | undefined;
}

/** An open sandbox: a worker pool and a service backend shared by the modules of one run. */
export interface Sandbox extends SandboxScope {
  pool: SandboxPool;
  services: ServiceBackend;
  moduleTimeoutSeconds?: number;
  /** The orchestrator's own files, resolved once for every broker of this sandbox. */
  own: OwnFiles;
}

/** One module ready to run: its bundle and what its manifest grants it. */
export interface RunnableModule {
  name: string;
  version?: string;
  /** The CommonJS bundle (bundleModule's output). */
  code: string;
  capabilities: Capabilities;
  configuration: Readonly<Record<string, unknown>>;
  timeoutSeconds: number;
  maxMemoryMb: number;
  /** Passed to main(args); Phase 2 passes none. */
  args?: string[];
  /** Check mode: the broker plans instead of acting (`diff`: with unified diffs of planned writes). */
  check?: { diff: boolean };
}

/** A module's outcome in the sandbox; in check mode with what it would have changed. */
export interface SandboxOutcome extends ModuleOutcome {
  planned?: { changes: readonly PlannedChange[]; dropped: number };
}

/**
 * Opens a sandbox (pool + service backend) for `fn` and always closes its workers afterwards. `started` is a
 * pool already started for it (see createPhase2's prestart); it is closed the same way.
 */
export async function withSandbox<T>(options: Phase2Options, scope: SandboxScope, fn: (sandbox: Sandbox) => Promise<T>, started?: SandboxPool): Promise<T> {
  const services: ServiceBackend =
    options.services === 'record' ? recordingBackend(path.join(scope.stateDir, 'services.log')) : systemctlBackend();
  const pool = started ?? poolOf(options, scope.logger);
  // An interrupted run stops its sandbox process and workers at once.
  const stopOnInterrupt = onInterrupt(() => pool.destroy());
  try {
    const ownFiles = [...(scope.ownFiles ?? []), ...(options.ownFiles ?? [])];
    const own = resolveOwnFiles(scope.stateDir, ownFiles);
    return await fn({ ...scope, ownFiles, own, pool, services, ...(options.moduleTimeoutSeconds !== undefined ? { moduleTimeoutSeconds: options.moduleTimeoutSeconds } : {}) });
  } finally {
    stopOnInterrupt();
    const teardown = pool.destroy();
    if (scope.endBeside !== undefined) scope.endBeside(teardown);
    else await teardown;
  }
}

/**
 * Runs the given modules one after another, in the given order (legacy mode's children order); the outcomes
 * come back in the same order. One module's failure does not stop the next.
 */
export async function runModulesInOrder(sandbox: Sandbox, mods: readonly RunnableModule[]): Promise<ModuleOutcome[]> {
  const outcomes: ModuleOutcome[] = [];
  for (const m of mods) outcomes.push(await runInSandbox(sandbox, m));
  return outcomes;
}

/** Runs one module's main() in the sandbox with its own broker. Never rejects for anything the module does. */
export async function runInSandbox(sandbox: Sandbox, m: RunnableModule): Promise<SandboxOutcome> {
  return (await startInSandbox(sandbox, m)).outcome;
}

/** A module run started in the sandbox: its job (to chain another after) and its outcome, once logged. */
interface StartedRun {
  job: JobHandle;
  outcome: Promise<SandboxOutcome>;
}

/**
 * Starts one module's main() in the sandbox with its own broker; with `after`, strictly after that run (see
 * SandboxPool.start; with `onlyAfterSuccess`, at once only if that run succeeds), and then its "executing" line is
 * logged when it starts.
 */
async function startInSandbox(sandbox: Sandbox, m: RunnableModule, after?: JobHandle, onlyAfterSuccess?: Promise<unknown>): Promise<StartedRun> {
  const logger = sandbox.logger.child({ module: m.name });
  // Check mode only: the planner (and the diff library it uses) loads when a check runs, not on every run.
  const plan = m.check !== undefined ? new (await import('../broker/planner.js')).Planner(m.check.diff) : undefined;
  const broker = new ModuleBroker({
    module: m.name, capabilities: m.capabilities, root: sandbox.root, stateDir: sandbox.stateDir, logger, services: sandbox.services,
    ...(sandbox.ownFiles !== undefined ? { ownFiles: sandbox.ownFiles } : {}),
    resolvedOwnFiles: sandbox.own,
    ...(plan !== undefined ? { plan } : {}),
  });
  const executing = (): void => logger.info({ version: m.version, ...(plan !== undefined ? { check: true } : {}) }, `${plan !== undefined ? 'checking' : 'executing'} module ${m.name}`);
  if (after === undefined) executing();
  // An interrupted run ends the module's requests at once (its running commands are killed).
  const stopOnInterrupt = onInterrupt(() => broker.close());
  const job: ModuleJob = {
    module: m.name,
    code: m.code,
    configuration: m.configuration,
    args: m.args ?? [],
    timeoutMs: Math.round((sandbox.moduleTimeoutSeconds ?? m.timeoutSeconds) * 1000),
    maxMemoryMb: m.maxMemoryMb,
    broker,
    ...(plan !== undefined ? { check: true } : {}),
    ...(after !== undefined ? { onStarted: executing } : {}),
  };
  const handle = sandbox.pool.start(job, after, onlyAfterSuccess);
  const outcome = handle.outcome.finally(stopOnInterrupt).then((o): SandboxOutcome => {
    if (o.status === 'ok') {
      const did = plan !== undefined ? `checked: ${plan.changes.changes.filter((c) => c.summary !== 'unchanged').length} planned change(s)` : 'executed successfully';
      logger.info({ durationMs: o.durationMs, changed: o.result?.changed }, `✓ module ${m.name} ${did}`);
    } else logger.error({ status: o.status, code: o.error?.code }, `✗ ${o.error?.message ?? `module ${m.name}: ${o.status}`}`);
    return plan !== undefined ? { ...o, planned: plan.changes } : o;
  });
  return { job: handle, outcome };
}

/**
 * Builds the Phase 2 step of a run; in check mode (ctx.check) it plans the modules' runs instead (checkModules).
 * Its `prestart` starts the sandbox process and workers ahead, while Phase 1 runs; Phase 2 then uses them, and the
 * returned function ends them when Phase 2 does not run. `started`: a pool the caller started even earlier (the
 * CLI, before it loads the run machinery), made with poolOf(options) and the run's logger; the first prestart
 * takes it instead of making one.
 */
export function createPhase2(options: Phase2Options, started?: SandboxPool): Phase2 {
  let adopt = started;
  let early: { pool: SandboxPool; stopOnInterrupt: () => void } | undefined;
  /** The pool started ahead, now the caller's to close (withSandbox's own interrupt handler takes over). */
  const take = (): SandboxPool | undefined => {
    early?.stopOnInterrupt();
    const pool = early?.pool;
    early = undefined;
    return pool;
  };
  const phase2: Phase2 = (ctx) =>
    // the whole install root is the orchestrator's own: no grant reaches it (config.json, the clone, releases)
    withSandbox(options, { root: ctx.root, stateDir: ctx.layout.stateDir, logger: ctx.logger, ownFiles: [ctx.layout.root], endBeside: ctx.endBeside }, async (sandbox) => {
      if (ctx.check !== undefined) return checkModules(ctx, sandbox, ctx.check);
      // Read again only when Phase 1 changed what is live.
      const installed = ctx.phase1.live ?? (await readInstalled(ctx.layout));
      const runnable: InstalledModule[] = [];
      for (const m of installed) {
        if (m.manifest === undefined) {
          ctx.report.modules.push({ module: m.name, status: 'failed', code: 'E_MANIFEST_INVALID', message: `installed copy is unusable: ${m.problem ?? 'unknown'}` });
        } else if (!m.manifest.metadata.enabled) {
          ctx.report.modules.push({ module: m.name, status: 'disabled', ...(m.version ? { version: m.version } : {}) });
        } else runnable.push(m);
      }
      ctx.logger.info({ enabled: runnable.length }, `running ${runnable.length} enabled module(s)`);
      const groups = byPriority(runnable);
      for (let i = 0; i < groups.length; ) {
        // Modules that run one at a time (alone in their priority, or a pool of one) run as one chain.
        const oneByOne: InstalledModule[] = [];
        while (i < groups.length && ((groups[i]?.length ?? 0) <= 1 || sandbox.pool.size === 1)) oneByOne.push(...(groups[i++] ?? []));
        if (oneByOne.length > 0) await runOneByOne(ctx, sandbox, oneByOne);
        else await inOrderAtMost(groups[i++] ?? [], sandbox.pool.size, (m) => runWithRollback(ctx, sandbox, m));
      }
      const ok = ctx.report.modules.filter((m) => m.status === 'ok').length;
      ctx.logger.info({ ok, failed: runnable.length - ok }, `module execution completed: ${ok} successful, ${runnable.length - ok} failed`);
    }, take());
  phase2.prestart = (logger) => {
    void take()?.destroy();
    const pool = adopt ?? poolOf(options, logger);
    adopt = undefined;
    // An interrupted run stops it at once, like the sandbox of a running Phase 2.
    early = { pool, stopOnInterrupt: onInterrupt(() => pool.destroy()) };
    pool.warm();
    return async () => {
      if (early?.pool === pool) await take()?.destroy();
    };
  };
  return phase2;
}

/**
 * Runs `fn` over `items` with at most `limit` at once, starting them in the given order (so a pool of one
 * runs a priority group strictly by name).
 */
async function inOrderAtMost<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

/** Groups modules by ascending priority; names sorted within a group (deterministic order). */
export function byPriority<T extends { name: string; manifest?: ModuleManifest | undefined }>(mods: T[]): T[][] {
  const groups = new Map<number, T[]>();
  for (const m of mods) {
    const p = m.manifest?.metadata.priority ?? DEFAULTS.modulePriority;
    groups.set(p, [...(groups.get(p) ?? []), m]);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([, g]) => g.sort((x, y) => (x.name < y.name ? -1 : 1)));
}

/**
 * The update `m` is on trial for: the one Phase 1 made in this run, or, when an earlier run was killed between
 * the flip and the module's first run, the live version still marked on trial (a failing fresh update either way).
 */
async function trialOf(ctx: Phase2Context, m: InstalledModule): Promise<{ to: string; trial: boolean } | undefined> {
  const trial = await onTrial(ctx.layout, m.name, m.versionDir);
  const updated = ctx.phase1.updated.get(m.name);
  if (updated !== undefined) return { to: updated.to, trial };
  if (!trial || m.version === undefined) return undefined;
  ctx.logger.warn({ module: m.name, version: m.version }, `module ${m.name} ${m.version} was installed by a run that stopped before running it: it runs now on trial, and is rolled back if it fails`);
  return { to: m.version, trial };
}

/** A module started in Phase 2, with the update it is on trial for. */
interface Launched {
  m: InstalledModule;
  updated: { to: string; trial: boolean } | undefined;
  run: StartedRun;
  /** Resolves once settle() is done with it (its outcome recorded; a failed update rolled back and rerun). */
  settled: Promise<void>;
  done: () => void;
}

/**
 * Starts an installed module (after `before`, when given: at once only if `before` succeeds when `before` is an
 * update on trial, else once settle() is done with `before`); its outcome is for settle().
 */
async function launch(ctx: Phase2Context, sandbox: Sandbox, m: InstalledModule, before?: Launched): Promise<Launched> {
  const updated = await trialOf(ctx, m);
  const run = await startInstalled(sandbox, m, undefined, before?.run.job, before?.updated !== undefined ? before.settled : undefined);
  // Awaited by settle(); a module left unsettled by an interruption must not leave a rejection unhandled.
  run.outcome.catch(() => undefined);
  let done: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => (done = resolve));
  return { m, updated, run, settled, done };
}

async function runWithRollback(ctx: Phase2Context, sandbox: Sandbox, m: InstalledModule): Promise<void> {
  // After an interruption nothing more starts, and a module stopped by it did not fail: it stays on trial.
  if (interruptedBy() !== undefined) return;
  await settle(ctx, sandbox, await launch(ctx, sandbox, m));
}

/**
 * Runs modules strictly one after another. While one runs, the next few (DEFAULTS.chainAhead) are made ready
 * (their trial state, bundle and broker) and handed to the sandbox, each to start the moment the one before it
 * settles there. One that follows a module on trial starts there only if that module succeeds (the same verdict
 * settle() reaches): a failed update is rolled back and its previous version run before the next module starts.
 */
async function runOneByOne(ctx: Phase2Context, sandbox: Sandbox, mods: readonly InstalledModule[]): Promise<void> {
  const launched: Launched[] = [];
  let i = 0;
  /** Launches modules until DEFAULTS.chainAhead are in flight, each after the one before. */
  const fill = async (): Promise<void> => {
    while (i < mods.length && launched.length < DEFAULTS.chainAhead && interruptedBy() === undefined) {
      launched.push(await launch(ctx, sandbox, mods[i++] as InstalledModule, launched.at(-1)));
    }
  };
  try {
    await fill();
    while (launched.length > 0) {
      if (interruptedBy() !== undefined) return;
      const current = launched.shift() as Launched;
      // The next ones are handed over while this one runs.
      await fill();
      await settle(ctx, sandbox, current);
    }
  } finally {
    // Interrupted: what was handed over and waits for a module before it to be settled waits no longer.
    for (const l of launched) l.done();
  }
}

/** Waits for a launched module's outcome and records it; a module on trial that failed is rolled back and its previous version run. */
async function settle(ctx: Phase2Context, sandbox: Sandbox, launched: Launched): Promise<void> {
  try {
    await settleOutcome(ctx, sandbox, launched);
  } finally {
    launched.done();
  }
}

/** settle() without its notice to the modules launched after this one. */
async function settleOutcome(ctx: Phase2Context, sandbox: Sandbox, { m, updated, run }: Launched): Promise<void> {
  const outcome = await run.outcome;
  if (interruptedBy() !== undefined) return;
  if (outcome.status === 'ok' || updated === undefined) {
    ctx.report.modules.push(entryOf(m, outcome));
    if (updated?.trial === true) await endTrial(ctx.layout, m.name);
    return;
  }
  const reason = outcome.error?.message ?? outcome.status;
  const back = await rollback(ctx.layout, m.name);
  if (back === undefined) {
    // Nothing to roll back to (a first install): it did have its first run.
    ctx.report.modules.push(entryOf(m, outcome));
    if (updated.trial) await endTrial(ctx.layout, m.name);
    return;
  }
  await ctx.hook?.('rollback-flipped', m.name);
  // Recorded at once, so a crash now does not make the next run install the failed version again.
  ctx.journal.held[m.name] = { version: updated.to, reason: reason.slice(0, 500), at: new Date().toISOString() };
  await writeJournal(ctx.layout.journal, ctx.journal);
  await ctx.hook?.('rollback-recorded', m.name);
  ctx.logger.warn({ module: m.name, from: updated.to, to: back }, `module ${m.name} ${updated.to} failed its first run; rolled back to its previous version`);
  const upd = ctx.report.updates.find((u) => u.module === m.name);
  if (upd !== undefined) {
    upd.status = 'rolled-back';
    upd.message = reason;
  }
  const old = await readOne(ctx.layout, m.name);
  const rerun = old?.manifest !== undefined ? await runInstalled(sandbox, old) : undefined;
  ctx.report.modules.push({
    ...entryOf(m, outcome),
    status: 'rolled-back',
    message: `${updated.to} failed (${reason}); rolled back to ${old?.version ?? back}, which ${rerun === undefined ? 'could not run' : rerun.status === 'ok' ? 'ran successfully' : `failed too: ${rerun.error?.message ?? rerun.status}`}`,
  });
  if (rerun !== undefined && rerun.status !== 'ok' && old !== undefined) ctx.report.modules.push({ ...entryOf(old, rerun), module: m.name });
}

/** Runs an installed module from its built bundle; a module without one fails with E_BUILD. */
async function runInstalled(sandbox: Sandbox, m: InstalledModule, check?: { diff: boolean }): Promise<SandboxOutcome> {
  return (await startInstalled(sandbox, m, check)).outcome;
}

/** Starts an installed module from its built bundle (after `after`, when given); one without a bundle fails with E_BUILD. */
async function startInstalled(sandbox: Sandbox, m: InstalledModule, check?: { diff: boolean }, after?: JobHandle, onlyAfterSuccess?: Promise<unknown>): Promise<StartedRun> {
  const manifest = m.manifest;
  if (manifest === undefined) throw new Error(`runInstalled: ${m.name} has no manifest`);
  let code: string;
  try {
    code = readFileSync(path.join(m.dir, BUNDLE_FILE), 'utf8');
  } catch {
    const failed: SandboxOutcome = { module: m.name, status: 'failed', durationMs: 0, error: { code: 'E_BUILD', message: `module "${m.name}" has no built bundle (installed by an older orchestrator?); it is rebuilt when its next version installs` } };
    // It follows `after` all the same, so what comes next waits for both.
    const outcome = (after?.outcome ?? Promise.resolve()).then(() => failed);
    return { job: { outcome }, outcome };
  }
  return startInSandbox(sandbox, {
    name: m.name,
    ...(m.version !== undefined ? { version: m.version } : {}),
    code,
    capabilities: manifest.capabilities,
    configuration: manifest.configuration,
    timeoutSeconds: manifest.metadata.timeout_seconds,
    maxMemoryMb: manifest.metadata.max_memory_mb,
    ...(check !== undefined ? { check } : {}),
  }, after, onlyAfterSuccess);
}

/** One module a check run plans: the installed version, or the repository's when Phase 1 found an update for it. */
interface CheckCandidate { name: string; version?: string; manifest: ModuleManifest; run: () => Promise<SandboxOutcome> }

/**
 * Phase 2 of `run --check`: every module that would run, runs with a broker that plans instead of acting. A module
 * with an update available runs the repository's version (built from the check clone into a temp folder, as the
 * install would build it), the others their installed version. Nothing is installed, rolled back or recorded.
 */
async function checkModules(ctx: Phase2Context, sandbox: Sandbox, check: NonNullable<Phase2Context['check']>): Promise<void> {
  const candidates: CheckCandidate[] = [];
  const add = (name: string, version: string | undefined, manifest: ModuleManifest, run: () => Promise<SandboxOutcome>): void => {
    if (!manifest.metadata.enabled) ctx.report.modules.push({ module: name, status: 'disabled', ...(version !== undefined ? { version } : {}) });
    else candidates.push({ name, ...(version !== undefined ? { version } : {}), manifest, run });
  };
  for (const m of await readInstalled(ctx.layout)) {
    if (check.available.has(m.name)) continue;
    if (m.manifest === undefined) ctx.report.modules.push({ module: m.name, status: 'failed', code: 'E_MANIFEST_INVALID', message: `installed copy is unusable: ${m.problem ?? 'unknown'}` });
    else add(m.name, m.version, m.manifest, () => runInstalled(sandbox, m, { diff: check.diff }));
  }
  for (const remote of check.available.values()) {
    if (remote.manifest === undefined) continue;
    const manifest = remote.manifest;
    add(remote.name, manifest.metadata.schema_version, manifest, async () => {
      let code: string;
      try {
        code = await buildFromRepository(check, remote);
      } catch (err) {
        const e = err instanceof UpdatesError ? err : new UpdatesError('E_BUILD', { module: remote.name, detail: messageOf(err) });
        return { module: remote.name, status: 'failed', durationMs: 0, error: { code: e.code, message: e.message } };
      }
      return runInSandbox(sandbox, {
        name: remote.name, version: manifest.metadata.schema_version, code, capabilities: manifest.capabilities, configuration: manifest.configuration,
        timeoutSeconds: manifest.metadata.timeout_seconds, maxMemoryMb: manifest.metadata.max_memory_mb, check: { diff: check.diff },
      });
    });
  }
  ctx.logger.info({ enabled: candidates.length }, `checking ${candidates.length} enabled module(s): planning, not acting`);
  for (const group of byPriority(candidates)) {
    await inOrderAtMost(group, sandbox.pool.size, async (c) => {
      if (interruptedBy() !== undefined) return;
      ctx.report.modules.push(entryOf(c, await c.run()));
    });
  }
}

/** The bundle of a module as the repository has it: its files from the clone's objects, built in a temp folder. */
async function buildFromRepository(check: NonNullable<Phase2Context['check']>, remote: RemoteModule): Promise<string> {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'updates-check-module-'));
  try {
    const dir = path.join(tmp, remote.name);
    await writeFiles(check.repoDir, remote.files, dir);
    return await check.build(dir, remote.name);
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/** A module's outcome as a report entry (Phase 2 and legacy mode). */
export function entryOf(m: { name: string; version?: string }, o: SandboxOutcome): ModuleEntry {
  return {
    module: m.name,
    status: o.status,
    ...(m.version !== undefined ? { version: m.version } : {}),
    durationMs: o.durationMs,
    ...(o.result?.changed !== undefined ? { changed: o.result.changed } : {}),
    ...(o.result?.message !== undefined ? { message: o.result.message } : {}),
    ...(o.error !== undefined ? { code: o.error.code, message: o.error.message } : {}),
    ...(o.planned !== undefined ? { planned: [...o.planned.changes], ...(o.planned.dropped > 0 ? { plannedDropped: o.planned.dropped } : {}) } : {}),
  };
}
