/**
 * One run, start to end: lock → Phase 1 (sync, plan, install) → Phase 2 (run enabled modules) → report → unlock.
 * Returns the report; its exitCode is the process's exit code.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { mkdirTraversable } from '../core/fs-atomic.js';
import { UpdatesError, messageOf } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { fsErrorOf, rethrowFs } from '../core/fs-errors.js';
import type { BuildModule, StepHook } from './install.js';
import { makeCheckClone, removeCheckClone } from './check-clone.js';
import { raiseWatermarks, readJournal, writeJournal } from './journal.js';
import { readInstalled } from './installed.js';
import type { InstalledModule } from './installed.js';
import type { Journal } from './journal.js';
import { layoutOf } from './layout.js';
import { assertStateDir, clearObstacles } from './obstacles.js';
import type { Layout } from './layout.js';
import { acquireLock } from './lock.js';
import { exitCodeOfSignal, interrupt, pushSignalHandler } from './interrupt.js';
import type { StopSignal } from './interrupt.js';
import { DEFAULTS } from '../core/defaults.js';
import type { Logger } from '../core/logger.js';
import { refreshIndex, runPhase1 } from './phase1.js';
import { takeHandoff } from './handoff.js';
import type { Handoff } from './handoff.js';
import { confirmIfPending, noteReleaseState, selfUpdate } from './self-update-step.js';
import type { Phase1Result } from './phase1.js';
import { writeMetrics } from './metrics.js';
import { formatRecap, recapOf } from './recap.js';
import { saveCheckReport, saveReport } from './report.js';
import type { RunReport } from './report.js';
import type { RemoteModule } from './snapshot.js';
import type { TrustPolicy } from './trust.js';

/** Exit codes, as documented in the README and --help. */


export interface RunConfig {
  /** The run's id (in its log lines and report); default: a new one. */
  runId?: string;
  repoUrl: string;
  branch: string;
  /** The install root, already mapped under --root. */
  installRoot: string;
  /** The private clone, already mapped under --root. */
  repoDir?: string;
  /** --root: where module-declared absolute paths are mapped ('/' for none). */
  root: string;
  checkOnly: boolean;
  wait: boolean;
  orchestratorVersion: string;
  build: BuildModule;
  logger: Logger;
  /** Phase 2; in check mode it runs only with planModules. */
  phase2?: Phase2 | undefined;
  /** Check mode (`run --check`): after Phase 1, run the modules with a broker that plans instead of acting. */
  planModules?: { diff: boolean };
  hook?: StepHook;
  /** Signature and history checks; default: no signature required, rewrites refused. */
  trust?: TrustPolicy;
  maxFetchBytes?: number;
  /** Deadline of each network operation of git, ms. */
  fetchTimeoutMs?: number;
  /** The CLI's arguments: after a self-update, the new release is re-executed with them to finish the run. */
  reexecArgv?: string[];
  /**
   * Take SIGTERM and SIGINT once the lock is held: the run stops its modules, saves its report with status
   * `interrupted` and returns it with exit code 143 or 130 (the CLI then exits at once). See interrupt.ts.
   */
  handleSignals?: boolean;
  /** Where the Prometheus metrics go (default: the layout's metrics/updates.prom). */
  metricsFile?: string;
  /** Called with the finished report, after the lock is released (notifications); must not throw. */
  notify?: (report: RunReport, logger: Logger) => Promise<void>;
}

/** What Phase 2 gets: the run so far. It fills report.modules and may roll back modules of `phase1.updated`. */
export interface Phase2Context {
  runId: string;
  layout: Layout;
  root: string;
  report: RunReport;
  phase1: Phase1Result;
  journal: Journal;
  logger: Logger;
  hook?: StepHook;
  /**
   * `run --check`: plan the modules' runs instead of acting. `available` are the repository's copies of the modules
   * Phase 1 would update, in the check clone `repoDir`, built with `build`.
   */
  check?: { diff: boolean; repoDir: string; build: BuildModule; available: ReadonlyMap<string, RemoteModule> };
  /**
   * Takes the end of Phase 2's sandbox (its process killed and waited for, its folder and cgroup removed) to finish
   * beside the rest of the run (index, journal, report), which does not depend on it; the run waits for it before
   * it releases its lock.
   */
  endBeside?: (teardown: Promise<void>) => void;
}
export interface Phase2 {
  (ctx: Phase2Context): Promise<void>;
  /**
   * Starts what Phase 2 needs (the sandbox process and its workers) ahead, while Phase 1 runs. Returns the
   * function that ends it when Phase 2 did not take it (a failed run, a handover); safe to call in any case.
   */
  prestart?: (logger: Logger) => () => Promise<void>;
}

/** Performs one run. Throws only for usage errors (E_USAGE, E_CONFIG) and a held lock (E_LOCKED). */
export async function performRun(cfg: RunConfig): Promise<RunReport> {
  const layout = layoutOf(cfg.installRoot);
  const runId = cfg.runId ?? randomUUID().slice(0, 8);
  const logger = cfg.logger.child({ run: runId });
  const started = Date.now();
  const report: RunReport = {
    runId,
    mode: cfg.checkOnly ? 'check' : 'run',
    startedAt: new Date(started).toISOString(),
    repository: { url: cfg.repoUrl, branch: cfg.branch },
    orchestrator: { from: cfg.orchestratorVersion, to: null, status: 'unknown' },
    updates: [],
    modules: [],
    errors: [],
    phase2: 'not-run',
  };
  // The sandbox starts first, off the critical path (it takes longer to start than Phase 1 takes to run); whatever
  // way the run ends, a held lock included, it is ended (see below).
  const endEarlySandbox = cfg.phase2?.prestart?.(logger);
  let handoff: Handoff | undefined;
  let lock: Awaited<ReturnType<typeof acquireLock>> | undefined;
  try {
    // state/ holds backups of module files and the lock key: its owner's only. The install root is not (the
    // metrics folder beside state/ must be reachable by a collector running as another user).
    await assertStateDir(layout);
    await mkdirTraversable(layout.root).catch(rethrowFs(layout.root));
    await fsp.mkdir(layout.stateDir, { recursive: true, mode: 0o700 }).catch(rethrowFs(layout.stateDir));
    handoff = await takeHandoff(layout);
    // A re-executed release runs under its parent's lock; every other run takes its own.
    const onWait = (h: { pid: number } | undefined): void => logger.info({ holder: h?.pid }, `waiting for the run lock (held by pid ${h?.pid ?? 'unknown'})`);
    lock = handoff === undefined ? await acquireLock(layout.root, { wait: cfg.wait, onWait }).catch(rethrowFs(layout.stateDir)) : undefined;
  } catch (err) {
    await endEarlySandbox?.();
    throw err;
  }
  let handedOver = false;
  let checkClone: string | undefined;
  let stop: (signal: StopSignal) => void = () => undefined;
  const stopped = new Promise<StopSignal>((resolve) => (stop = resolve));
  const popSignals = cfg.handleSignals === true ? pushSignalHandler((signal) => stop(signal)) : undefined;
  /** What is live once the run is done (read for the index; the metrics reuse it). */
  let live: InstalledModule[] | undefined;
  /** The journal as the run last wrote it (the metrics read it from here rather than from the file). */
  let journalWritten: Journal | undefined;
  /** Old version folders being removed beside the run (Phase1Result.cleanup); done before the lock is released. */
  let cleanup: Promise<void> = Promise.resolve();
  /** Phase 2's sandbox ending beside the rest of the run (Phase2Context.endBeside); done before the lock is released. */
  const teardowns: Promise<void>[] = [];
  const endBeside = (teardown: Promise<void>): void => {
    teardowns.push(teardown.catch((err: unknown) => logger.warn({ err }, `sandbox: could not end it cleanly: ${messageOf(err)}`)));
  };
  const work = (async (): Promise<void> => {
    try {
      logger.info({ root: layout.root, mode: report.mode, version: cfg.orchestratorVersion }, 'starting update orchestration');
      await clearObstacles(layout, logger, cfg.checkOnly);
      const journal = await readJournal(layout.journal, { logger, readOnly: cfg.checkOnly });
      // Check mode reads a throwaway clone: the private one is never fetched into, re-pointed or re-made.
      if (cfg.checkOnly) checkClone = await makeCheckClone(cfg.repoDir ?? layout.repoDir, cfg.repoUrl);
      const repoDir = checkClone ?? cfg.repoDir ?? layout.repoDir;
      const phase1 = await runPhase1(
        { layout, repoDir, repoUrl: cfg.repoUrl, branch: cfg.branch, checkOnly: cfg.checkOnly, orchestratorVersion: cfg.orchestratorVersion, build: cfg.build, logger,
          trust: cfg.trust ?? { allowHistoryRewrite: false },
          ...(cfg.maxFetchBytes !== undefined ? { maxFetchBytes: cfg.maxFetchBytes } : {}),
          ...(cfg.fetchTimeoutMs !== undefined ? { fetchTimeoutMs: cfg.fetchTimeoutMs } : {}),
          ...(cfg.hook ? { hook: cfg.hook } : {}) },
        report,
        journal,
      );
      cleanup = phase1.cleanup;
      if (handoff !== undefined) mergeHandoff(report, phase1, handoff);
      const heldRelease = cfg.checkOnly ? undefined : await noteReleaseState(layout, report, logger);
      if (cfg.checkOnly && cfg.planModules !== undefined && cfg.phase2 !== undefined) {
        const check = { diff: cfg.planModules.diff, repoDir, build: cfg.build, available: phase1.available };
        await cfg.phase2({ runId, layout, root: cfg.root, report, phase1, journal, logger, check, endBeside });
        report.phase2 = 'ran';
      }
      if (!cfg.checkOnly) {
        await writeJournal(layout.journal, journal);
        // A new release finishes this run with a sandbox of its own.
        if (report.orchestrator.status === 'available') await endEarlySandbox?.();
        const childExit = await selfUpdate({ layout, repoDir, report, phase1, heldVersion: heldRelease, runningVersion: cfg.orchestratorVersion, logger,
          ...(cfg.reexecArgv ? { reexecArgv: cfg.reexecArgv } : {}), ...(cfg.hook ? { hook: cfg.hook } : {}) });
        if (childExit !== undefined) {
          handedOver = true;
          report.handedOver = true;
          report.exitCode = childExit;
          return;
        }
        if (cfg.phase2 !== undefined) {
          await cfg.phase2({ runId, layout, root: cfg.root, report, phase1, journal, logger, endBeside, ...(cfg.hook ? { hook: cfg.hook } : {}) });
          report.phase2 = 'ran';
        } else {
          logger.warn('Phase 2 (module execution) is not available in this build; modules were not run');
        }
        // Phase 2 may have rolled modules back: the index follows what is live (read again unless nothing changed).
        const rolledBack = report.modules.some((m) => m.status === 'rolled-back');
        live = phase1.live !== undefined && !rolledBack ? [...phase1.live] : await readInstalled(layout);
        await refreshIndex({ layout, orchestratorVersion: cfg.orchestratorVersion }, undefined, live);
        raiseWatermarks(journal, live);
        await writeJournal(layout.journal, journal);
        journalWritten = journal;
        await confirmIfPending(layout, logger);
      }
      report.exitCode = exitCodeOf(report, cfg.checkOnly, phase1.updatesAvailable);
    } catch (err) {
      const e = err instanceof UpdatesError ? err : (fsErrorOf(err) ?? new UpdatesError('E_INTERNAL', { detail: messageOf(err) }));
      logger.error({ code: e.code, err }, e.message);
      report.errors.push({ code: e.code, message: e.message });
      report.exitCode = EXIT.FAILED;
    } finally {
      await endEarlySandbox?.();
    }
  })();
  let signal: StopSignal | undefined;
  try {
    signal = await Promise.race([work.then(() => undefined), stopped]);
  } finally {
    popSignals?.();
  }
  if (signal !== undefined) return interrupted(cfg, layout, logger, report, started, signal);
  report.status = 'completed';
  report.finishedAt = new Date().toISOString();
  report.durationMs = Date.now() - started;
  if (!handedOver) await saveWithMetrics(cfg, layout, logger, report, live, journalWritten);
  await removeCheckClone(checkClone);
  await cleanup;
  await Promise.all(teardowns);
  await lock?.release();
  summarize(logger, report);
  if (!handedOver && cfg.notify !== undefined) await cfg.notify(report, logger);
  return report;
}

/**
 * The end of a run stopped by a signal: what it started is stopped (sandbox, commands), and its report, as it
 * stands, is saved with status `interrupted`. The lock stays held until the process exits, since the abandoned
 * work may still be finishing a step; every step is safe to stop anywhere.
 */
async function interrupted(cfg: RunConfig, layout: Layout, logger: Logger, report: RunReport, started: number, signal: StopSignal): Promise<RunReport> {
  logger.warn({ signal }, `interrupted by ${signal}: stopping the run's modules and saving its report`);
  // The report as it stood when the signal came: what stopping the modules makes them report is not theirs.
  const final: RunReport = { ...structuredClone(report), status: 'interrupted', signal, exitCode: exitCodeOfSignal(signal) };
  await interrupt(signal, DEFAULTS.interruptStopMs);
  final.finishedAt = new Date().toISOString();
  final.durationMs = Date.now() - started;
  await saveWithMetrics(cfg, layout, logger, final);
  summarize(logger, final);
  return final;
}

/**
 * Saves the run's report and rewrites the metrics from it, side by side: the two are separate files, so their
 * fsyncs overlap instead of following one another. `live` and `journal`: what is live and the journal as the
 * run wrote it, when it got that far (the metrics read them from disk otherwise).
 */
async function saveWithMetrics(cfg: RunConfig, layout: Layout, logger: Logger, report: RunReport, live?: InstalledModule[], journal?: Journal): Promise<void> {
  const save = cfg.checkOnly ? saveCheckReport : saveReport;
  const saved = { kind: cfg.checkOnly ? 'check' : 'run', report, ...(journal !== undefined ? { journal } : {}) } as const;
  await Promise.all([
    save(layout, report).catch((err: unknown) => logger.error({ err }, 'could not save the run report')),
    writeMetrics(layout, cfg.metricsFile ?? layout.metricsFile, logger, live, saved),
  ]);
}

/** The child's report starts with what its parent did in Phase 1 of the same run. */
function mergeHandoff(report: RunReport, phase1: Phase1Result, h: Handoff): void {
  report.updates = [...h.report.updates, ...report.updates];
  report.errors = [...h.report.errors, ...report.errors];
  report.orchestrator = { ...h.report.orchestrator, status: 'updated' };
  for (const [name, v] of h.updated) if (!phase1.updated.has(name)) phase1.updated.set(name, v);
}

function exitCodeOf(report: RunReport, checkOnly: boolean, updatesAvailable: boolean): number {
  const moduleFailed = report.modules.some((m) => m.status !== 'ok' && m.status !== 'disabled');
  if (report.errors.length > 0 || moduleFailed) return EXIT.FAILED;
  if (checkOnly && updatesAvailable) return EXIT.UPDATES_AVAILABLE;
  return EXIT.OK;
}

function summarize(logger: Logger, r: RunReport): void {
  const count = (pred: (s: string) => boolean, list: { status: string }[]) => list.filter((x) => pred(x.status)).length;
  const recap = recapOf(r);
  logger.info(
    {
      ...recap,
      exitCode: r.exitCode,
      schemaUpdates: count((s) => ['installed', 'updated', 'repaired', 'available', 'failed'].includes(s), r.updates),
      applied: count((s) => ['installed', 'updated', 'repaired'].includes(s), r.updates),
      modulesRun: count((s) => s !== 'disabled', r.modules),
      modulesOk: count((s) => s === 'ok', r.modules),
      errors: r.errors.length,
      durationMs: r.durationMs,
    },
    `update orchestration completed: ${formatRecap(recap)}`,
  );
}
