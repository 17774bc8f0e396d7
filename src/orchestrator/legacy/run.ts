/**
 * `updates --legacy`: the seed's manifest-driven mode. Under the run lock it reads `<install root>/manifest.json`,
 * verifies each child of the entrypoint against its checksum, runs the verified ones in the manifest's order in
 * one sandbox (same brokers, same deny-by-default capabilities as Phase 2), records `lastApplied` of each child
 * that succeeded, and reports in the shape of a normal run. Nothing is synced or installed.
 */
import { randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { bundleModule } from '../../sandbox/build/bundle.js';
import { UpdatesError, messageOf } from '../../core/errors.js';
import type { BuildModule } from '../install.js';
import { layoutOf } from '../layout.js';
import type { Layout } from '../layout.js';
import { acquireLock } from '../lock.js';
import type { Logger } from '../../core/logger.js';
import { entryOf, runModulesInOrder, withSandbox } from '../phase2.js';
import type { Phase2Options } from '../phase2.js';
import { writeMetrics } from '../metrics.js';
import { saveReport } from '../report.js';
import type { RunReport } from '../report.js';
import { EXIT } from '../../core/exit-codes.js';
import { prepareChild } from './children.js';
import type { ChildPlan } from './children.js';
import { LEGACY_MANIFEST, patchLegacyEntries, readLegacyManifest } from './manifest.js';

export interface LegacyRunOptions extends Phase2Options {
  /** The install root, already mapped under --root; manifest.json and modules/ are in it. */
  installRoot: string;
  /** --root: where module-declared absolute paths are mapped ('/' for none). */
  root: string;
  wait: boolean;
  orchestratorVersion: string;
  logger: Logger;
  /** How a child without a built bundle is bundled (default: bundleModule). */
  build?: BuildModule;
}

/**
 * The report of a legacy run: a normal run's report (so --json, state/last-run.json, metrics and `status` work
 * alike), `updates` always empty, `repository.url` naming the manifest (nothing is synced), plus `legacy`.
 */
export type LegacyReport = RunReport & { legacy: { manifest: string; entrypoint: string | null } };

/**
 * Performs one legacy run. Exit code as a normal run: 0 all good, 1 something failed or was refused (an invalid
 * manifest.json included; the report says which field). Throws only E_LOCKED, when another run holds the lock.
 */
export async function runLegacy(options: LegacyRunOptions): Promise<LegacyReport> {
  const layout = layoutOf(options.installRoot);
  const runId = randomUUID().slice(0, 8);
  const logger = options.logger.child({ run: runId, mode: 'legacy' });
  const started = Date.now();
  const report = newReport(runId, started, layout, options.orchestratorVersion);
  await fsp.mkdir(layout.stateDir, { recursive: true });
  const lock = await acquireLock(layout.root, { wait: options.wait });
  try {
    logger.info({ root: layout.root }, 'starting legacy (manifest.json) update run');
    await legacyCycle(options, layout, report, logger);
  } catch (err) {
    const e = err instanceof UpdatesError ? err : new UpdatesError('E_INTERNAL', { detail: messageOf(err) });
    logger.error({ code: e.code }, e.message);
    report.errors.push({ code: e.code, message: e.message });
  } finally {
    const failed = report.errors.length > 0 || report.modules.some((m) => m.status !== 'ok' && m.status !== 'disabled');
    report.exitCode = failed ? EXIT.FAILED : EXIT.OK;
    report.finishedAt = new Date().toISOString();
    report.durationMs = Date.now() - started;
    await saveReport(layout, report).catch((err: unknown) => logger.error({ err }, 'could not save the run report'));
    await writeMetrics(layout, layout.metricsFile, logger);
    await lock.release();
  }
  const ok = report.modules.filter((m) => m.status === 'ok').length;
  logger.info({ exitCode: report.exitCode, modulesOk: ok, modules: report.modules.length, errors: report.errors.length }, 'legacy update run completed');
  return report;
}

function newReport(runId: string, started: number, layout: Layout, version: string): LegacyReport {
  return {
    runId,
    mode: 'run',
    startedAt: new Date(started).toISOString(),
    repository: { url: path.join(layout.root, LEGACY_MANIFEST), branch: '' },
    orchestrator: { from: version, to: null, status: 'unknown' },
    updates: [],
    modules: [],
    errors: [],
    phase2: 'not-run',
    legacy: { manifest: path.join(layout.root, LEGACY_MANIFEST), entrypoint: null },
  };
}

/** Reads the manifest, prepares every child, runs the verified ones in order, records lastApplied. */
async function legacyCycle(options: LegacyRunOptions, layout: Layout, report: LegacyReport, logger: Logger): Promise<void> {
  const { file, manifest } = await readLegacyManifest(layout.root);
  report.legacy.entrypoint = manifest.entrypoint;
  const children = manifest.updates.find((u) => u.name === manifest.entrypoint)?.children ?? [];
  logger.info({ entrypoint: manifest.entrypoint, children }, `entrypoint ${manifest.entrypoint}: ${children.length} child module(s)`);
  const ctx = { layout, manifest, build: options.build ?? bundleModule, logger };
  const plans: ChildPlan[] = [];
  for (const name of children) plans.push(await prepareChild(ctx, name));
  const runnable = plans.flatMap((p) => (p.runs ? [p.module] : []));
  const outcomes = await withSandbox(options, { root: options.root, stateDir: layout.stateDir, logger }, (sandbox) => runModulesInOrder(sandbox, runnable));
  report.phase2 = 'ran';
  const byName = new Map(outcomes.map((o) => [o.module, o]));
  const applied = new Map<string, Record<string, unknown>>();
  for (const plan of plans) {
    if (!plan.runs) {
      report.modules.push(plan.entry);
      continue;
    }
    const outcome = byName.get(plan.module.name);
    if (outcome === undefined) throw new UpdatesError('E_INTERNAL', { detail: `no outcome for ${plan.module.name}` });
    report.modules.push(entryOf(plan.module, outcome));
    if (outcome.status === 'ok') applied.set(plan.module.name, { lastApplied: new Date().toISOString() });
  }
  await patchLegacyEntries(file, applied);
  if (applied.size > 0) logger.info({ modules: [...applied.keys()] }, `recorded lastApplied of ${applied.size} module(s) in manifest.json`);
}
