/**
 * Phase 1, infrastructure: sync the repository, plan, install what is newer (crash-safe), derive the index.
 */
import path from 'node:path';
import { DEFAULTS } from '../core/defaults.js';
import { UpdatesError, messageOf } from '../core/errors.js';
import { fsyncPath } from '../core/fs-atomic.js';
import { fsErrorOf } from '../core/fs-errors.js';
import { mapLimit } from '../core/limit.js';
import { syncRepository } from './git.js';
import { deriveGlobalIndex, readGlobalIndex, writeGlobalIndex } from './global-index.js';
import type { GlobalIndex } from './global-index.js';
import { BlobBatches } from './blob-batches.js';
import { collectGarbage, emptyTrash, markBatch, stageModules } from './install.js';
import type { BuildModule, Marked, Staged, StepHook, ToActivate } from './install.js';
import { readInstalled } from './installed.js';
import type { InstalledModule } from './installed.js';
import type { Journal } from './journal.js';
import { versionsOf } from './layout.js';
import { readHolds } from './holds.js';
import type { Layout } from './layout.js';
import type { Logger } from '../core/logger.js';
import { installs, planUpdates } from './plan.js';
import type { PlanEntry } from './plan.js';
import type { RunReport, UpdateEntry, UpdateStatus } from './report.js';
import { ObjectReader } from './object-reader.js';
import { readSnapshot } from './snapshot.js';
import type { KnownModule, RemoteModule } from './snapshot.js';
import { checkDescent, confirmHistory, verifySignature } from './trust.js';
import type { TrustPolicy } from './trust.js';
import * as semver from '../core/semver.js';

export interface Phase1Options {
  layout: Layout;
  repoDir: string;
  repoUrl: string;
  branch: string;
  checkOnly: boolean;
  orchestratorVersion: string;
  build: BuildModule;
  logger: Logger;
  hook?: StepHook;
  trust: TrustPolicy;
  maxFetchBytes?: number;
  fetchTimeoutMs?: number;
}

export interface Phase1Result {
  /** Modules whose new version went live in this run: a failure in Phase 2 rolls them back. */
  updated: Map<string, { from: string | null; to: string }>;
  /** Whether the check found anything to install. */
  updatesAvailable: boolean;
  /** Check mode: the repository's copy of each module an update is available for (what `run --check` plans with). */
  available: Map<string, RemoteModule>;
  /**
   * What is live after Phase 1, as read (and verified) at its start, when Phase 1 changed nothing live: no
   * version flipped, no install failed. Undefined otherwise: whoever needs it reads it again.
   */
  live?: readonly InstalledModule[];
  /** The removal of the version folders collectGarbage set aside, running beside the rest of the run. Never rejects. */
  cleanup: Promise<void>;
}

const DONE_STATUS: Record<'install' | 'update' | 'repair', UpdateStatus> = { install: 'installed', update: 'updated', repair: 'repaired' };

/** Runs Phase 1; records everything in `report` and `journal`. Never throws for a module's problem. */
export async function runPhase1(o: Phase1Options, report: RunReport, journal: Journal): Promise<Phase1Result> {
  const { logger } = o;
  // The fetch (other processes) runs while this process reads what is installed: neither depends on the other.
  // The clone's objects are read through one reader, started after the fetch: it resolves the fetched commit,
  // then reads the snapshot.
  logger.info({ url: o.repoUrl, branch: o.branch }, 'syncing repository');
  const reader = new ObjectReader(o.repoDir);
  try {
    return await runPhase1With(o, report, journal, reader, sync(o, report, journal, reader));
  } finally {
    reader.close();
  }
}

async function runPhase1With(o: Phase1Options, report: RunReport, journal: Journal, reader: ObjectReader, syncing: Promise<string | undefined>): Promise<Phase1Result> {
  const result: Phase1Result = { updated: new Map(), updatesAvailable: false, available: new Map(), cleanup: Promise.resolve() };
  const { layout, logger } = o;
  let installed: InstalledModule[];
  try {
    if (!o.checkOnly) {
      const { versions, leftovers, trash } = await collectGarbage(layout);
      if (versions.length > 0) logger.debug({ removed: versions.length }, `removing ${versions.length} version folder(s) neither live nor previous, beside the run`);
      result.cleanup = emptyTrash(trash);
      if (leftovers.length > 0) logger.info({ removed: leftovers }, 'removed leftovers of an interrupted run');
    }
    // Verified against each install record, so a damaged live version is re-installed (reported `repaired`).
    // Read once: the sync changes nothing live, so this is also what the plan compares with.
    installed = await readInstalled(layout, { verify: true });
    if (!o.checkOnly) await refreshIndex(o, undefined, installed);
  } catch (err) {
    // No git process of this run outlives it (the lock is released when the run fails).
    await syncing;
    throw err;
  }
  const commit = await syncing;
  if (commit === undefined) {
    result.live = installed;
    return result;
  }
  // A new commit most often brings installs: the builder starts while the commit's modules are read.
  if (journal.lastCommit !== commit) o.build.warm?.();
  if (journal.lastCommit !== undefined && journal.lastCommit !== commit) {
    logger.info({ from: journal.lastCommit.slice(0, 12), to: commit.slice(0, 12) }, 'repository moved');
  }
  const snapshot = await readSnapshot(reader, commit, knownModules(installed));
  // Nothing more is read through it: its process ends now, not with Phase 1.
  reader.close();
  noteOrchestrator(o, snapshot.rootIndex?.metadata.schema_version, snapshot.rootIndexProblem, report);
  const plan = planUpdates(snapshot.modules, installed, journal, await readHolds(layout));
  const pending = plan.filter((p) => installs(p.action));
  logger.info({ commit: commit.slice(0, 12), modules: snapshot.modules.length, updates: pending.length }, `schema updates needed: ${pending.length} module(s)`);
  const ctx: InstallContext = {
    commit,
    report,
    result,
    journal,
    index: deriveGlobalIndex(installed, await readGlobalIndex(layout), { orchestratorVersion: o.orchestratorVersion }),
    blobs: new BlobBatches(o.repoDir, pending.flatMap((p) => (p.remote ? [p.remote] : []))),
    flipped: [],
    failures: 0,
    marks: new Map(),
  };
  const staged: Stagings = o.checkOnly ? { byModule: new Map(), batchOf: new Map(), lastOfBatch: new Set() } : stageAhead(o, pending, ctx);
  for (const entry of plan) {
    if (installs(entry.action)) {
      result.updatesAvailable = true;
      if (o.checkOnly) {
        report.updates.push(update(entry, 'available'));
        if (entry.remote !== undefined) result.available.set(entry.module, entry.remote);
        logger.info({ module: entry.module, from: entry.from ?? null, to: entry.to }, `update available: ${entry.module} ${entry.from ?? '(new)'} → ${entry.to}`);
      } else {
        await installOne(o, entry, ctx, staged);
        if (staged.lastOfBatch.has(entry.module)) await publishBatch(o, ctx);
      }
    } else if (entry.action !== 'current') {
      report.updates.push(update(entry, entry.action as 'held' | 'kept-newer' | 'invalid' | 'local-only' | 'unbumped'));
      const level = entry.action === 'invalid' ? 'error' : 'warn';
      logger[level]({ module: entry.module }, entry.reason ?? entry.action);
      if (entry.action === 'invalid') report.errors.push({ code: entry.remote?.problem?.code ?? 'E_MANIFEST_INVALID', message: entry.reason ?? '' });
    }
  }
  await publishBatch(o, ctx);
  // The index was rewritten after each batch of flips without an fsync (it is derived from what is live, and
  // every run derives it anew); it is made durable once, for the whole run.
  if (result.updated.size > 0) await makeDurable(layout.globalIndex);
  if (!o.checkOnly) {
    journal.lastCommit = commit;
    // What was read before the plan, with this run's flips, is what is live (the run lock keeps anyone else
    // out); after a failed install, which might have stopped anywhere, it is read again.
    await refreshIndex(o, snapshot.rootIndex?.metadata.channel, ctx.failures === 0 ? liveAfter(installed, result.updated) : undefined);
  }
  if (result.updated.size === 0 && ctx.failures === 0) result.live = installed;
  return result;
}

/**
 * Fetches, then checks the commit (signature, history); its commit, or undefined when the run cannot go on from
 * the repository (the error is in the report and the log). Never rejects.
 */
async function sync(o: Phase1Options, report: RunReport, journal: Journal, reader: ObjectReader): Promise<string | undefined> {
  try {
    const synced = await syncRepository({ repoDir: o.repoDir, url: o.repoUrl, branch: o.branch, logger: o.logger, reader, ...(o.maxFetchBytes ? { maxFetchBytes: o.maxFetchBytes } : {}),
      ...(o.fetchTimeoutMs !== undefined ? { timeoutMs: o.fetchTimeoutMs } : {}) });
    report.repository.commit = synced.commit;
    report.repository.recloned = synced.recloned;
    if (o.trust.allowedSigners !== undefined) {
      await verifySignature(o.repoDir, synced.commit, o.trust.allowedSigners);
      report.repository.signature = 'verified';
    }
    confirmHistory(o, journal);
    if ((await checkDescent(o.repoDir, journal.lastCommit, synced.commit, o.trust)) === 'rewritten-allowed') {
      o.logger.warn({ from: journal.lastCommit, to: synced.commit }, 'the remote history was rewritten; accepted because of --allow-history-rewrite');
    }
    return synced.commit;
  } catch (err) {
    const e = err instanceof UpdatesError ? err : (fsErrorOf(err) ?? new UpdatesError('E_SYNC_UNREACHABLE', { url: o.repoUrl, branch: o.branch, detail: messageOf(err) }));
    o.logger.error({ code: e.code }, e.message);
    report.errors.push({ code: e.code, message: e.message });
    return undefined;
  }
}

/** The name and version of every live module: `installed` (read before the plan) with this run's flips, by name. */
function liveAfter(installed: readonly InstalledModule[], updated: ReadonlyMap<string, { to: string }>): Pick<InstalledModule, 'name' | 'version'>[] {
  const live = installed.map((m): Pick<InstalledModule, 'name' | 'version'> => {
    const version = updated.get(m.name)?.to ?? m.version;
    return version !== undefined ? { name: m.name, version } : { name: m.name };
  });
  const known = new Set(installed.map((m) => m.name));
  for (const [name, { to }] of updated) if (!known.has(name)) live.push({ name, version: to });
  // Sorted by name, as readInstalled lists them.
  return live.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The installed modules the snapshot need not read again: intact, with a valid manifest and a known tree. */
function knownModules(installed: readonly InstalledModule[]): Map<string, KnownModule> {
  const known = new Map<string, KnownModule>();
  for (const m of installed) {
    if (m.tree !== undefined && m.manifest !== undefined && m.version !== undefined && m.damaged === undefined) known.set(m.name, { tree: m.tree, manifest: m.manifest });
  }
  return known;
}

/**
 * What installing one module needs besides the options: the run so far, the index kept in memory, the blobs,
 * and the modules flipped live since the index was last written.
 */
interface InstallContext {
  commit: string; report: RunReport; result: Phase1Result; journal: Journal; index: GlobalIndex; blobs: BlobBatches; flipped: string[]; failures: number;
  /** Each module's activation, once its batch is marked (markedFor). */
  marks: Map<string, Promise<Marked>>;
}

/** The stagings of the modules to install, by module; the batch of each module, and the last module of each batch (in plan order). */
interface Stagings { byModule: Map<string, Promise<Staged>>; batchOf: Map<string, readonly PlanEntry[]>; lastOfBatch: Set<string> }

/**
 * Stages the modules to install in batches of up to DEFAULTS.stagingBatch (and STAGING_BATCH_BYTES of files), in
 * plan order, STAGING_BATCHES_AT_ONCE at a time: each batch is written, built and made durable together
 * (stageModules), while the batches before are made live. Nothing goes live here: a batch is marked for activation
 * as a whole (markedFor), then made live one module at a time, in plan order (installOne). Never rejects: a failure
 * is that module's Staged.
 */
function stageAhead(o: Phase1Options, pending: readonly PlanEntry[], ctx: InstallContext): Stagings {
  const byModule = new Map<string, Promise<Staged>>();
  const settle = new Map<string, (staged: Staged) => void>();
  const batches = stagingBatches(pending.filter((e) => e.remote !== undefined));
  for (const e of batches.flat()) byModule.set(e.module, new Promise<Staged>((resolve) => settle.set(e.module, resolve)));
  const stageBatch = async (batch: readonly PlanEntry[]): Promise<Staged[]> => {
    try {
      const requests = [];
      for (const entry of batch) {
        o.logger.info({ module: entry.module, from: entry.from ?? null, to: entry.to }, `installing ${entry.module} ${entry.from ?? '(new)'} → ${entry.to ?? '?'}`);
        const remote = entry.remote as RemoteModule;
        requests.push({ mod: remote, blobs: await ctx.blobs.for(remote) });
      }
      return await stageModules(o.layout, o.repoDir, requests, ctx.commit, o.build, o.hook);
    } catch (err) {
      return batch.map(() => ({ err }));
    }
  };
  // Started in plan order. stageBatch never rejects, so every module is staged (or has its failure) and every
  // promise settles.
  void mapLimit(batches, async (batch) => {
    const outcomes = await stageBatch(batch);
    for (const [i, entry] of batch.entries()) settle.get(entry.module)?.(outcomes[i] ?? { err: new Error(`${entry.module} was not staged`) });
  }, STAGING_BATCHES_AT_ONCE);
  const batchOf = new Map(batches.flatMap((b) => b.map((e): [string, readonly PlanEntry[]] => [e.module, b])));
  return { byModule, batchOf, lastOfBatch: new Set(batches.map((b) => (b[b.length - 1] as PlanEntry).module)) };
}

/** Most bytes of module files one staging batch holds in memory. */
const STAGING_BATCH_BYTES = 64 * 1024 * 1024;
/** Batches staged at once, so that one is built (esbuild's CPU) while another waits for its fsyncs. */
const STAGING_BATCHES_AT_ONCE = 2;

/** Splits the modules to stage, in order, into batches of at most DEFAULTS.stagingBatch modules and STAGING_BATCH_BYTES (at least one module each). */
function stagingBatches(entries: readonly PlanEntry[]): PlanEntry[][] {
  const batches: PlanEntry[][] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = (e.remote?.files ?? []).reduce((n, f) => n + f.size, 0);
    const last = batches[batches.length - 1];
    if (last === undefined || last.length >= DEFAULTS.stagingBatch || bytes + size > STAGING_BATCH_BYTES) {
      batches.push([e]);
      bytes = size;
    } else {
      last.push(e);
      bytes += size;
    }
  }
  return batches;
}

/**
 * After a batch's flips: makes them durable (one fsync of the modules folder) and rewrites the index once for
 * all of them. Between a flip and this, the index lags what is live (it claims the version live before).
 */
async function publishBatch(o: Phase1Options, ctx: InstallContext): Promise<void> {
  if (ctx.flipped.length === 0) return;
  const flipped = ctx.flipped.splice(0);
  await fsyncPath(o.layout.modulesDir);
  // The index is kept in memory and only the flipped modules' entries change: no re-reading of every manifest.
  await writeGlobalIndex(o.layout, ctx.index, { durable: false });
  for (const module of flipped) await o.hook?.('index-written', module);
}

/** fsyncs a file and the folder that holds it. */
async function makeDurable(file: string): Promise<void> {
  await fsyncPath(file).catch(() => undefined);
  await fsyncPath(path.dirname(file));
}

async function installOne(o: Phase1Options, entry: PlanEntry, ctx: InstallContext, stagings: Stagings): Promise<void> {
  const { logger } = o;
  const { report, result, journal } = ctx;
  const staging = stagings.byModule.get(entry.module);
  if (staging === undefined) return;
  // Awaited first, whatever follows: no staging outlives Phase 1.
  const staged = await staging;
  if (entry.remote === undefined || entry.to === undefined) return;
  try {
    if ('err' in staged) throw staged.err;
    const marked = await markedFor(o, ctx, stagings, entry);
    if ('err' in marked) throw marked.err;
    // The modules folder is fsynced once per batch, before the index names the batch's versions (publishBatch).
    await marked.flip(false);
    ctx.index.packages = Object.fromEntries(Object.entries({ ...ctx.index.packages, [entry.module]: entry.to }).sort(([a], [b]) => (a < b ? -1 : 1)));
    ctx.flipped.push(entry.module);
    result.updated.set(entry.module, { from: entry.from ?? null, to: entry.to });
    if (journal.held[entry.module]?.version !== entry.to) delete journal.held[entry.module];
    report.updates.push(update(entry, DONE_STATUS[entry.action as 'install' | 'update' | 'repair']));
    logger.info({ module: entry.module, version: entry.to }, `installed ${entry.module} ${entry.to}`);
  } catch (err) {
    // A write without a path (into an open file) fails in the module's versions folder.
    const e = fsErrorOf(err instanceof UpdatesError ? err.cause : err, versionsOf(o.layout, entry.module)) ?? (err instanceof UpdatesError ? err : new UpdatesError('E_INSTALL', { module: entry.module, detail: messageOf(err) }));
    ctx.failures += 1;
    report.updates.push({ ...update(entry, 'failed'), message: e.message });
    report.errors.push({ code: e.code, message: e.message });
    logger.error({ module: entry.module, code: e.code }, e.message);
  }
}

/**
 * The activation of `entry`: the first time a module of its batch is reached, every module of the batch that was
 * staged is marked at once (markBatch: their links written and made durable together); each is then flipped in
 * plan order by installOne. Never rejects.
 */
function markedFor(o: Phase1Options, ctx: InstallContext, stagings: Stagings, entry: PlanEntry): Promise<Marked> {
  const known = ctx.marks.get(entry.module);
  if (known !== undefined) return known;
  const batch = stagings.batchOf.get(entry.module) ?? [entry];
  const marking = (async () => {
    const items: ToActivate[] = [];
    for (const e of batch) {
      const staged = await stagings.byModule.get(e.module);
      if (staged !== undefined && !('err' in staged) && e.to !== undefined) items.push({ name: e.module, dirName: staged.dir, repairs: e.action === 'repair' });
    }
    return markBatch(o.layout, items, o.hook);
  })();
  for (const e of batch) {
    ctx.marks.set(e.module, marking.then((m) => m.get(e.module) ?? { err: new Error(`${e.module} was not marked for activation`) }, (err: unknown) => ({ err })));
  }
  return ctx.marks.get(entry.module) as Promise<Marked>;
}

function update(entry: PlanEntry, status: UpdateStatus): UpdateEntry {
  return { module: entry.module, from: entry.from ?? null, to: entry.to ?? null, status, ...(entry.reason ? { message: entry.reason } : {}), ...(entry.hold ? { hold: entry.hold } : {}) };
}

function noteOrchestrator(o: Phase1Options, remote: string | undefined, problem: string | undefined, report: RunReport): void {
  if (remote === undefined) {
    report.orchestrator = { from: o.orchestratorVersion, to: null, status: 'unknown' };
    const e = new UpdatesError('E_ROOT_INDEX_INVALID', { detail: problem ?? 'missing' });
    report.errors.push({ code: e.code, message: e.message });
    o.logger.error({ code: e.code }, e.message);
    return;
  }
  const status = semver.gt(remote, o.orchestratorVersion) ? 'available' : semver.lt(remote, o.orchestratorVersion) ? 'newer-installed' : 'current';
  report.orchestrator = { from: o.orchestratorVersion, to: remote, status };
  o.logger.info({ running: o.orchestratorVersion, repository: remote }, `orchestrator: running ${o.orchestratorVersion}, repository has ${remote}`);
}

/** Rewrites the global index from what is live (a no-op when it already matches); `live`: read already. */
export async function refreshIndex(o: Pick<Phase1Options, 'layout' | 'orchestratorVersion'>, channel: string | undefined, live?: readonly Pick<InstalledModule, 'name' | 'version'>[]): Promise<void> {
  const installed = live ?? (await readInstalled(o.layout));
  const previous = await readGlobalIndex(o.layout);
  const index = deriveGlobalIndex(installed, previous, { orchestratorVersion: o.orchestratorVersion, ...(channel ? { channel } : {}) });
  await writeGlobalIndex(o.layout, index);
}
