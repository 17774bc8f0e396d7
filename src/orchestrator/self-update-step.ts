/**
 * The self-update step of a run (after Phase 1's modules, as in the seed): stage, self-test and activate a
 * newer orchestrator, then re-execute it to finish the run. Also reports what the launcher did meanwhile
 * (a rollback of a release whose first run failed) and confirms a release on trial once its run completes.
 */
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import * as semver from '../core/semver.js';
import { UpdatesError, messageOf } from '../core/errors.js';
import { EXIT } from '../core/exit-codes.js';
import { HANDOFF_ENV, writeHandoff } from './handoff.js';
import { interruptedBy, pushSignalHandler } from './interrupt.js';
import type { StepHook } from './install.js';
import type { Layout } from './layout.js';
import type { Logger } from '../core/logger.js';
import type { Phase1Result } from './phase1.js';
import { collectReleaseGarbage, currentLink, readReleaseState, writeReleaseState } from './releases.js';
import type { RunReport } from './report.js';
import { RUNNING_PACKAGE, activateRelease, confirmRelease, rollbackRelease, stageRelease } from './self-update.js';

/**
 * Exit codes a completed (or interrupted) run of a release can end with; anything else means the release itself
 * failed. An interrupted run is no verdict on the release: it stays on trial.
 */
const COMPLETED = new Set<number>([EXIT.OK, EXIT.FAILED, EXIT.UPDATES_AVAILABLE, EXIT.INTERRUPTED, EXIT.TERMINATED]);

/** Before Phase 1: report (once) a rollback the launcher made, and keep a held version from being retried. */
export async function noteReleaseState(layout: Layout, report: RunReport, logger: Logger): Promise<string | undefined> {
  const state = await readReleaseState(layout.root);
  if (state.rolledBack !== undefined) {
    const rb = state.rolledBack;
    report.orchestrator.status = 'rolled-back';
    report.orchestrator.message = `orchestrator ${rb.version} failed its first run (${rb.reason}) and was rolled back to ${rb.to}`;
    report.errors.push({ code: 'E_SELF_UPDATE', message: report.orchestrator.message });
    logger.error(report.orchestrator.message);
    const { rolledBack: _, ...rest } = state;
    await writeReleaseState(layout.root, rest);
  }
  // Releases no link refers to (older ones, interrupted stagings) go, except while one is on trial.
  if (state.pending === undefined) await collectReleaseGarbage(layout.root, state);
  return state.held?.version;
}

/** The release folder this process runs from, when it runs from the install root's current release. */
export function runningRelease(layout: Layout): string | undefined {
  try {
    return realpathSync(currentLink(layout.root)) === realpathSync(RUNNING_PACKAGE) ? path.basename(RUNNING_PACKAGE) : undefined;
  } catch {
    return undefined;
  }
}

export interface SelfUpdateContext {
  layout: Layout;
  repoDir: string;
  report: RunReport;
  phase1: Phase1Result;
  heldVersion: string | undefined;
  runningVersion: string;
  logger: Logger;
  /** The original arguments, to re-execute the new release with; without them the new release runs next time. */
  reexecArgv?: string[];
  hook?: StepHook;
}

/**
 * Installs a newer orchestrator when the repository has one. Returns the exit code of the re-executed
 * release when it finished the run (the caller then stops), or undefined to go on with this process.
 */
export async function selfUpdate(c: SelfUpdateContext): Promise<number | undefined> {
  const remote = c.report.orchestrator.to;
  const commit = c.report.repository.commit;
  if (remote === null || commit === undefined || !semver.gt(remote, c.runningVersion)) return undefined;
  if (remote === c.heldVersion) {
    if (c.report.orchestrator.status === 'rolled-back') return undefined;
    c.report.orchestrator.status = 'held';
    c.report.orchestrator.message = `orchestrator ${remote} failed before and is held until a newer version appears`;
    c.logger.warn(c.report.orchestrator.message);
    return undefined;
  }
  c.logger.info({ from: c.runningVersion, to: remote }, `updating the orchestrator ${c.runningVersion} → ${remote}`);
  let dir: string;
  try {
    dir = await stageRelease({ installRoot: c.layout.root, repoDir: c.repoDir, commit, version: remote, logger: c.logger, ...(c.hook ? { hook: c.hook } : {}) });
  } catch (err) {
    const e = err instanceof UpdatesError ? err : new UpdatesError('E_SELF_UPDATE', { version: remote, detail: messageOf(err) });
    c.report.orchestrator.status = 'failed';
    c.report.orchestrator.message = e.message;
    c.report.errors.push({ code: e.code, message: e.message });
    c.logger.error({ code: e.code }, e.message);
    const state = await readReleaseState(c.layout.root);
    await writeReleaseState(c.layout.root, { ...state, held: { version: remote, reason: e.message.slice(0, 500), at: new Date().toISOString() } });
    return undefined;
  }
  await activateRelease(c.layout.root, dir, remote, c.runningVersion, c.hook);
  c.report.orchestrator.status = 'updated';
  c.logger.info({ release: dir }, `orchestrator ${remote} installed and current`);
  if (c.reexecArgv === undefined) return undefined;
  return reexec(c, dir, remote);
}

async function reexec(c: SelfUpdateContext, dir: string, version: string): Promise<number | undefined> {
  // An interrupted run starts nothing more; the new release, current now, runs next time.
  if (interruptedBy() !== undefined) return EXIT.FAILED;
  await writeHandoff(c.layout, {
    parentPid: process.pid,
    report: { updates: c.report.updates, errors: c.report.errors, orchestrator: c.report.orchestrator, repository: c.report.repository },
    updated: [...c.phase1.updated.entries()],
  });
  c.logger.info(`handing the run over to orchestrator ${version}`);
  const bin = path.join(c.layout.root, 'releases', dir, 'bin', 'updates.js');
  const child = spawn(process.execPath, [bin, ...(c.reexecArgv ?? [])], {
    stdio: 'inherit',
    env: { ...process.env, [HANDOFF_ENV]: String(process.pid), UPDATES_NO_DELEGATE: '1' },
  });
  // The child has the run now: a SIGTERM or SIGINT is for it, and this process waits for it to end.
  const popSignals = pushSignalHandler((s) => child.kill(s));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    child.on('exit', (cd, sig) => resolve([cd, sig]));
    child.on('error', () => resolve([null, null]));
  }).finally(popSignals);
  if (code !== null && COMPLETED.has(code)) return code;
  const reason = signal !== null ? `it was killed by ${signal}` : `it exited with ${code ?? 'an error'}`;
  const back = await rollbackRelease(c.layout.root, reason);
  c.report.orchestrator.status = 'rolled-back';
  c.report.orchestrator.message = `orchestrator ${version} failed its first run (${reason}); rolled back to ${back?.to ?? c.runningVersion}`;
  c.report.errors.push({ code: 'E_SELF_UPDATE', message: c.report.orchestrator.message });
  c.logger.error(c.report.orchestrator.message);
  // The rollback is reported here, not again by the next run.
  const state = await readReleaseState(c.layout.root);
  const { rolledBack: _, ...rest } = state;
  await writeReleaseState(c.layout.root, rest);
  return undefined;
}

/** At the end of a completed run: a release on trial that got this far is confirmed. */
export async function confirmIfPending(layout: Layout, logger: Logger): Promise<void> {
  if (await confirmRelease(layout.root, runningRelease(layout))) logger.info('this orchestrator release completed its first run and is confirmed');
}
