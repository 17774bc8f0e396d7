/**
 * Crash-safe install of one module version: stage beside the live one, build, fsync, then flip a symlink.
 *
 * Every step leaves a state the next run understands: a half-written staging folder is hidden and removed;
 * a complete version folder appears by one rename; the live link changes by one rename; the previous version
 * stays linked for rollback. A SIGKILL anywhere leaves the module fully old or fully new.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { flipSymlink, flipSymlinkSync, fsyncPath, readLinkOrUndefined, readLinkOrUndefinedSync } from '../core/fs-atomic.js';
import { mapLimit } from '../core/limit.js';
import { readBlobs } from './git.js';
import { UnsafeTreeError, writeTreeSync } from './tree-writer.js';
import type { TreeFileContent } from './tree-writer.js';
import { ADDED_DIR, ADOPTED_PREFIX, BUNDLE_FILE, INSTALL_RECORD, linkTarget, liveLink, previousLink, trialLink, VERSION_DIR_NAME, versionDirName, versionsOf } from './layout.js';
import type { Layout } from './layout.js';
import { UpdatesError, messageOf } from '../core/errors.js';
import { parseModuleManifest } from '../core/manifest.js';
import type { ModuleFile, RemoteModule } from './snapshot.js';
import { checkVersionDirSync, makeRecord } from './install-record.js';

/** Turns a staged module folder into the code the sandbox runs. Throws UpdatesError E_BUILD when it cannot. */
export interface BuildModule {
  (moduleDir: string, moduleName: string): Promise<string>;
  /**
   * Optional: builds several staged folders at once; one outcome per module, in order, each what the call above
   * gives for it (its code or its error). Without it, the modules of a batch are built one by one.
   */
  many?: (modules: readonly { dir: string; name: string }[]) => Promise<({ code: string } | { err: unknown })[]>;
  /** Optional: starts what a first build needs (its tools) ahead, when installs are likely; never throws. */
  warm?: () => void;
}

/** Test hook: called at each step boundary, so tests can kill the process exactly there. */
export type StepHook = (step: string, module: string) => void | Promise<void>;
const noHook: StepHook = () => undefined;


/** A module to stage: as read from the commit, with its files' contents when they are loaded already. */
export interface StageRequest { mod: RemoteModule; blobs?: Map<string, Buffer> }

/** A staged module version: its version folder's name, or why it could not be staged (an UpdatesError, mostly). */
export type Staged = { dir: string } | { err: unknown };

/**
 * fsyncs a batch keeps waiting at once: fewer than the thread pool's 4 threads, so the fsync of the module being
 * made live meanwhile (markBatch) never queues behind a whole batch's.
 */
const SYNCS_AT_ONCE = 3;

/** Builds run one at a time per batch when the builder cannot take a batch. */
const BUILDS_AT_ONCE = 4;

/**
 * Stages `mod` (as read from `commit`) into .versions/<name>/<version>-<tree>, complete and durable.
 * Returns the version folder name. Reuses the folder if an earlier, interrupted run already completed it and
 * it still verifies; a damaged one is left alone (it may be live) and the version is staged under a new name.
 */
export async function stageModule(
  layout: Layout,
  repoDir: string,
  mod: RemoteModule,
  commit: string,
  build: BuildModule,
  hook: StepHook = noHook,
  blobs?: Map<string, Buffer>,
): Promise<string> {
  const [staged] = await stageModules(layout, repoDir, [{ mod, ...(blobs ? { blobs } : {}) }], commit, build, hook);
  if (staged === undefined) throw new Error(`stageModule: ${mod.name} was not staged`);
  if ('err' in staged) throw staged.err instanceof Error ? staged.err : new Error(messageOf(staged.err));
  return staged.dir;
}

/** One module of a batch on its way through stageModules. */
interface Slot {
  mod: RemoteModule;
  parent: string;
  dirName: string;
  staging?: string | undefined;
  /** What must be fsynced before the rename: every folder and file written into the staging folder. */
  durable: string[];
  manifest?: Buffer;
  /** The built bundle. */
  code?: Buffer;
  /** Set once the module is done: staged, reused, or failed. */
  outcome?: Staged;
}

/**
 * Stages a batch of modules, each as stageModule does, with their common steps taken together: every tree is
 * written (directly, without the thread pool), all are built in one call of `build.many` when the builder has
 * it, every written file and folder is fsynced side by side, and only then is each staging folder renamed to its
 * version folder, in order. One outcome per request, in order; a module's failure is its own outcome and never
 * stops the others. Never rejects for a module's problem.
 *
 * Crash safety is that of one module: a staging folder is hidden until its contents are durable; it appears
 * complete by one rename; nothing here goes live. The rename itself is made durable by markBatch, whose fsync
 * of the module's versions folder comes before the live link may name the folder; until then a power loss can
 * only undo the rename (the next run removes the staging folder and stages again).
 */
export async function stageModules(
  layout: Layout,
  repoDir: string,
  requests: readonly StageRequest[],
  commit: string,
  build: BuildModule,
  hook: StepHook = noHook,
): Promise<Staged[]> {
  const slots: Slot[] = [];
  for (const { mod, blobs } of requests) {
    const slot: Slot = { mod, parent: versionsOf(layout, mod.name), dirName: '', durable: [] };
    slots.push(slot);
    try {
      if (mod.manifest === undefined) throw new Error(`stageModule: ${mod.name} has no valid manifest`);
      if (mod.unchanged === true) throw new Error(`stageModule: ${mod.name} was not read from the commit (same tree as installed)`);
      slot.dirName = versionDirName(mod.manifest.metadata.schema_version, mod.treeOid);
      if (entryExists(path.join(slot.parent, slot.dirName))) {
        if (checkVersionDirSync(path.join(slot.parent, slot.dirName)).damaged === undefined) {
          slot.outcome = { dir: slot.dirName };
          continue;
        }
        slot.dirName = `${slot.dirName}-r${randomBytes(3).toString('hex')}`;
      }
      // A folder made here (the module's versions folder; on a first install .versions too) is durable only once
      // the folder holding it is fsynced, with the rest of the batch.
      slot.durable.push(...holdersOfMade(slot.parent, mkdirSync(slot.parent, { recursive: true })));
      slot.staging = path.join(slot.parent, `.staging-${randomBytes(6).toString('hex')}`);
      const contents = blobs ?? (await readBlobs(repoDir, mod.files.map((f) => f.oid)));
      const written = writeTreeSync(slot.staging, treeContents(mod.files, contents));
      slot.durable.push(...written.dirs, ...written.files);
      await hook('files-written', mod.name);
      // The manifest as written: a regular file holds its blob's bytes; anything else is read back.
      const manifestFile = mod.files.find((f) => f.rel === 'index.json');
      const manifestBytes = manifestFile !== undefined && manifestFile.mode !== '120000' ? contents.get(manifestFile.oid) : undefined;
      slot.manifest = manifestBytes ?? readFileSync(path.join(slot.staging, 'index.json'));
      const check = parseModuleManifest(slot.manifest.toString('utf8'), mod.name);
      if (!check.ok) throw new UpdatesError('E_MANIFEST_INVALID', { module: mod.name, detail: check.reason });
    } catch (err) {
      fail(slot, err);
    }
  }
  await buildAll(slots.filter(pending), build);
  const installedAt = new Date().toISOString();
  for (const slot of slots.filter(pending)) {
    try {
      const staging = slot.staging as string;
      const version = (slot.mod.manifest as NonNullable<RemoteModule['manifest']>).metadata.schema_version;
      const added = path.join(staging, ADDED_DIR);
      mkdirSync(added);
      slot.durable.push(added);
      writeFileSync(path.join(staging, BUNDLE_FILE), slot.code as Buffer, { flag: 'wx' });
      const record = await makeRecord(staging, { module: slot.mod.name, version, commit, tree: slot.mod.treeOid, installedAt }, new Map([['index.json', slot.manifest as Buffer], [BUNDLE_FILE.split(path.sep).join('/'), slot.code as Buffer]]));
      writeFileSync(path.join(staging, INSTALL_RECORD), `${JSON.stringify(record, null, 2)}\n`, { flag: 'wx' });
      slot.durable.push(path.join(staging, BUNDLE_FILE), path.join(staging, INSTALL_RECORD));
    } catch (err) {
      fail(slot, err);
    }
  }
  await syncEach(slots.filter(pending), (slot) => slot.durable);
  for (const slot of slots.filter(pending)) {
    try {
      await hook('staged', slot.mod.name);
      const final = path.join(slot.parent, slot.dirName);
      rmSync(final, { recursive: true, force: true });
      renameSync(slot.staging as string, final);
      slot.staging = undefined;
      await hook('version-published', slot.mod.name);
      slot.outcome = { dir: slot.dirName };
    } catch (err) {
      fail(slot, err);
    }
  }
  return slots.map((slot) => slot.outcome ?? { err: new Error(`${slot.mod.name} was not staged`) });
}

/** A module still on its way: neither staged nor failed yet. */
const pending = (slot: Slot): boolean => slot.outcome === undefined;

/** Records a module's failure (as stageModule reports it) and removes its staging folder. */
function fail(slot: Slot, err: unknown): void {
  if (slot.staging !== undefined) rmSync(slot.staging, { recursive: true, force: true });
  slot.staging = undefined;
  slot.outcome = { err: stagingError(slot.mod.name, err) };
}

function stagingError(module: string, err: unknown): unknown {
  if (err instanceof UpdatesError) return err;
  if (err instanceof UnsafeTreeError) return new UpdatesError('E_MODULE_CONTENT', { module, detail: `refused, not installed: ${err.message}` });
  return new UpdatesError('E_INSTALL', { module, detail: messageOf(err) }, { cause: err });
}

/** Builds the staged folders of `slots`: in one call when the builder takes batches, else a few at a time. */
async function buildAll(slots: readonly Slot[], build: BuildModule): Promise<void> {
  const modules = slots.map((slot) => ({ dir: slot.staging as string, name: slot.mod.name }));
  let outcomes: ({ code: string } | { err: unknown })[];
  if (build.many !== undefined && slots.length > 1) outcomes = await build.many(modules);
  else {
    outcomes = [];
    await mapLimit([...modules.keys()], async (i) => {
      const m = modules[i] as { dir: string; name: string };
      outcomes[i] = await build(m.dir, m.name).then((code) => ({ code }), (err: unknown) => ({ err }));
    }, BUILDS_AT_ONCE);
  }
  for (const [i, slot] of slots.entries()) {
    const outcome = outcomes[i] ?? { err: new Error('the build gave no outcome') };
    if ('err' in outcome) fail(slot, outcome.err);
    else slot.code = Buffer.from(outcome.code, 'utf8');
  }
}

/** fsyncs the paths of every slot side by side (DEFAULTS.openFilesAtOnce at most); a failure fails its module only. */
async function syncEach(slots: readonly Slot[], paths: (slot: Slot) => readonly string[]): Promise<void> {
  // A folder several modules need (.versions) is fsynced once; its failure fails each of them.
  const owners = new Map<string, Slot[]>();
  for (const slot of slots) for (const p of paths(slot)) owners.set(p, [...(owners.get(p) ?? []), slot]);
  await mapLimit([...owners], async ([p, of]) => {
    if (of.every((slot) => !pending(slot))) return;
    await fsyncPath(p).catch((err: unknown) => of.filter(pending).forEach((slot) => fail(slot, err)));
  }, SYNCS_AT_ONCE);
}

/**
 * The folders holding the folders a recursive mkdir of `dir` made (`made`: the first one it made, or undefined):
 * each must be fsynced for the new folder's entry to be durable.
 */
function holdersOfMade(dir: string, made: string | undefined): string[] {
  const holders: string[] = [];
  if (made === undefined) return holders;
  const top = path.resolve(made);
  for (let d = path.resolve(dir); d.length >= top.length && d !== path.dirname(d); d = path.dirname(d)) holders.push(path.dirname(d));
  return holders;
}

/** The contents of a module's files, from blobs read from the clone. */
function treeContents(files: readonly ModuleFile[], blobs: ReadonlyMap<string, Buffer>): TreeFileContent[] {
  return files.map((f) => {
    const content = blobs.get(f.oid);
    if (content === undefined) throw new Error(`object ${f.oid} of ${f.rel} is missing from the clone`);
    return { rel: f.rel, mode: f.mode, content };
  });
}

/**
 * Writes files of a commit (paths relative to `staging`, which must not exist yet) from the clone's objects,
 * through the one safe writer (tree-writer.ts).
 */
export async function writeFiles(repoDir: string, files: readonly ModuleFile[], staging: string, preloaded?: Map<string, Buffer>): Promise<void> {
  const blobs = preloaded ?? (await readBlobs(repoDir, files.map((f) => f.oid)));
  writeTreeSync(staging, treeContents(files, blobs));
}

/** One module of a batch to make live: the version folder to make live, and whether it repairs a damaged copy. */
export interface ToActivate { name: string; dirName: string; repairs: boolean }

/** A module of a batch whose links are durable: `flip` makes it live; or why it could not be marked. */
export type Marked = { flip: (durable: boolean) => Promise<void> } | { err: unknown };

/**
 * Makes each module's version folder (`dirName`) its live version, in two steps. The version live before becomes
 * `previous`, for rollback (unless it is a damaged copy being repaired (`repairs`): then `previous` stays as it
 * was), and the new one goes on trial until its first run. First every module's `previous` and `.trial` links are
 * written, and all their versions folders fsynced together (the fsyncs overlap instead of following one another);
 * then each module's live link moves when the caller calls its `flip`, in the caller's order (`durable: false`
 * leaves the fsync of the modules folder to the caller, which makes several flips durable at once). Order
 * matters: a module's links are durable before its live link moves, so a crash anywhere leaves the next run
 * knowing what to roll back to and that it has to. Never rejects: a module that could not be marked has its error.
 */
export async function markBatch(layout: Layout, items: readonly ToActivate[], hook: StepHook = noHook): Promise<Map<string, Marked>> {
  const out = new Map<string, Marked>();
  const marked: { name: string; link: LiveFlip | undefined }[] = [];
  for (const item of items) {
    try {
      marked.push({ name: item.name, link: await markForActivation(layout, item.name, item.dirName, hook, item.repairs) });
    } catch (err) {
      out.set(item.name, { err });
    }
  }
  const synced = await Promise.allSettled(marked.map((m) => (m.link !== undefined ? fsyncPath(versionsOf(layout, m.name)) : Promise.resolve())));
  for (const [i, m] of marked.entries()) {
    const r = synced[i] as PromiseSettledResult<void>;
    if (r.status === 'rejected') {
      out.set(m.name, { err: r.reason });
      continue;
    }
    const link = m.link;
    if (link !== undefined) await hook('trial-recorded', m.name);
    out.set(m.name, { flip: async (durable) => (link !== undefined ? flipLive(layout, link, hook, durable) : undefined) });
  }
  return out;
}

/** The live link of a module marked for activation and the target it moves to. */
interface LiveFlip { name: string; live: string; next: string }

/**
 * markBatch's first step for one module: `previous` (unless `repairs`) and `.trial` are written in its versions folder,
 * not yet fsynced. Undefined when `dirName` is live already (nothing to do).
 */
async function markForActivation(layout: Layout, name: string, dirName: string, hook: StepHook, repairs: boolean): Promise<LiveFlip | undefined> {
  // On a first install the modules folder is new: its entry is made durable before any link in it counts.
  for (const holder of holdersOfMade(layout.modulesDir, mkdirSync(layout.modulesDir, { recursive: true }))) await fsyncPath(holder);
  const live = liveLink(layout, name);
  await adoptPlainFolder(layout, name);
  const current = readLinkOrUndefinedSync(live);
  const next = linkTarget(name, dirName);
  if (current === next) return undefined;
  if (current !== undefined && !repairs) {
    flipSymlinkSync(previousLink(layout, name), path.basename(current));
    await hook('previous-recorded', name);
  }
  flipSymlinkSync(trialLink(layout, name), dirName);
  return { name, live, next };
}

/** markBatch's last step for one module: the live link moves (made durable unless the caller fsyncs the modules folder itself). */
async function flipLive(layout: Layout, link: LiveFlip, hook: StepHook, durable: boolean): Promise<void> {
  flipSymlinkSync(link.live, link.next);
  if (durable) await fsyncPath(layout.modulesDir);
  await hook('flipped', link.name);
}

/**
 * A seed-era install has modules/<name> as a plain folder, which rename() cannot replace by a link.
 * Move it into .versions first (one rename), then link it, so it becomes the rollback target.
 */
async function adoptPlainFolder(layout: Layout, name: string): Promise<void> {
  const live = liveLink(layout, name);
  const st = lstatSync(live, { throwIfNoEntry: false });
  if (st === undefined || !st.isDirectory()) return;
  const adopted = `${ADOPTED_PREFIX}${Date.now()}`;
  await fsp.mkdir(versionsOf(layout, name), { recursive: true });
  await fsp.rename(live, path.join(versionsOf(layout, name), adopted));
  await fsyncPath(layout.modulesDir);
  await flipSymlink(live, linkTarget(name, adopted));
}

/** Flips `name` back to its previous version. Returns the version folder it rolled back to, or undefined. */
export async function rollback(layout: Layout, name: string): Promise<string | undefined> {
  const prev = await readLinkOrUndefined(previousLink(layout, name));
  if (prev === undefined || !(await exists(path.join(versionsOf(layout, name), prev)))) return undefined;
  await flipSymlink(liveLink(layout, name), linkTarget(name, prev));
  await fsp.rm(previousLink(layout, name), { force: true });
  await fsp.rm(trialLink(layout, name), { force: true });
  await fsyncPath(versionsOf(layout, name));
  return prev;
}

/** Whether the live version of `name` (its folder name `versionDir`) has not completed its first run yet. */
export async function onTrial(layout: Layout, name: string, versionDir: string | undefined): Promise<boolean> {
  return versionDir !== undefined && readLinkOrUndefinedSync(trialLink(layout, name)) === versionDir;
}

/**
 * The live version of `name` completed its first run: it is on trial no more. One unlink, made here rather than
 * through the thread pool: Phase 2 settles modules one by one, and a round trip there can wait behind the
 * removal of old versions going on beside the run (at 100 modules bumped, the sandbox's chain broke on it).
 */
export async function endTrial(layout: Layout, name: string): Promise<void> {
  rmSync(trialLink(layout, name), { force: true });
}

/** What collectGarbage found: version folders no link refers to, and what else an interrupted run left. */
export interface Collected {
  /** `module/folder` of each version folder neither live nor `previous` (most often the one before `previous`). */
  versions: string[];
  /** Staging folders, temp links and other entries, as `module/entry` or `modules/entry`; removed already. */
  leftovers: string[];
  /**
   * The folder the version folders were moved into (one rename each), when there were any: emptyTrash()
   * removes it while the run goes on; a run killed before that leaves it to the next run's collectGarbage.
   */
  trash?: string;
}

/** Where collectGarbage moves what it removes later; a dot name is never a module's. */
const TRASH_PREFIX = '.trash-';
/** Folders removed between two turns of the event loop (the fetch runs beside this). */
const REMOVED_PER_TURN = 16;

/**
 * Removes what no link refers to: interrupted staging folders, temp links and versions older than `previous`.
 * Runs at the start of every run, so a crash's leftovers never accumulate. A version folder (and a trash folder
 * an interrupted run left) is only renamed into this run's trash, since removing its files one by one costs
 * about a millisecond per folder on a journaling file system: the caller empties it off the critical path.
 */
export async function collectGarbage(layout: Layout): Promise<Collected> {
  const collected: Collected = { versions: [], leftovers: [] };
  let sinceTurn = 0;
  const remove = async (p: string): Promise<void> => {
    rmSync(p, { recursive: true, force: true });
    if (++sinceTurn >= REMOVED_PER_TURN) {
      sinceTurn = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const trash = path.join(layout.versionsDir, `${TRASH_PREFIX}${randomBytes(6).toString('hex')}`);
  const toTrash = (p: string, as: string): void => {
    if (collected.trash === undefined) mkdirSync(trash);
    collected.trash = trash;
    renameSync(p, path.join(trash, as));
  };
  const modules = readdirOrEmpty(layout.versionsDir);
  for (const name of modules) {
    const dir = versionsOf(layout, name);
    if (name.startsWith(TRASH_PREFIX)) {
      toTrash(dir, name);
      continue;
    }
    // One listing with each entry's type: the version folders, and the links kept beside them (`previous`,
    // `.trial`), of which only those that are there as links are read (most modules have no trial mark).
    const entries = readdirSync(dir, { withFileTypes: true });
    const listedLink = (link: string): string | undefined => (entries.some((e) => e.name === path.basename(link) && e.isSymbolicLink()) ? readLinkOrUndefinedSync(link) : undefined);
    const keep = new Set<string>();
    const live = readLinkOrUndefinedSync(liveLink(layout, name));
    if (live !== undefined) keep.add(path.basename(live));
    const prev = listedLink(previousLink(layout, name));
    if (prev !== undefined) keep.add(prev);
    // The trial mark stays only while it names the live version (a kill before the flip leaves it naming another).
    const trial = listedLink(trialLink(layout, name));
    const trialKept = trial !== undefined && live !== undefined && trial === path.basename(live);
    for (const dirent of entries) {
      const entry = dirent.name;
      if (entry === 'previous' || keep.has(entry) || (entry === '.trial' && trialKept)) continue;
      // A version folder that is neither live nor previous is most often the normal end of a version.
      if (VERSION_DIR_NAME.test(entry) && dirent.isDirectory()) {
        toTrash(path.join(dir, entry), `${name}-${entry}`);
        collected.versions.push(`${name}/${entry}`);
      } else {
        await remove(path.join(dir, entry));
        collected.leftovers.push(`${name}/${entry}`);
      }
    }
    if (live === undefined && prev === undefined) await remove(dir);
  }
  for (const entry of readdirOrEmpty(layout.modulesDir)) {
    if (entry.startsWith('.')) {
      await remove(path.join(layout.modulesDir, entry));
      collected.leftovers.push(`modules/${entry}`);
    }
  }
  return collected;
}

/** Removes a trash folder collectGarbage filled, through the thread pool (so beside the run's own work). Never rejects. */
export async function emptyTrash(trash: string | undefined): Promise<void> {
  if (trash !== undefined) await fsp.rm(trash, { recursive: true, force: true }).catch(() => undefined);
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function entryExists(p: string): boolean {
  return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}

async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(() => true, () => false);
}
