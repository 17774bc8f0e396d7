/**
 * Crash-safe install of one module version: stage beside the live one, build, fsync, then flip a symlink.
 *
 * Every step leaves a state the next run understands: a half-written staging folder is hidden and removed;
 * a complete version folder appears by one rename; the live link changes by one rename; the previous version
 * stays linked for rollback. A SIGKILL anywhere leaves the module fully old or fully new.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, readdirSync } from 'node:fs';
import path from 'node:path';
import { flipSymlink, fsyncPath, fsyncTree, readLinkOrUndefined, readLinkOrUndefinedSync } from '../core/fs-atomic.js';
import { readBlobs } from './git.js';
import { UnsafeTreeError, writeTree } from './tree-writer.js';
import { ADDED_DIR, ADOPTED_PREFIX, BUNDLE_FILE, INSTALL_RECORD, linkTarget, liveLink, previousLink, trialLink, versionsOf } from './layout.js';
import type { Layout } from './layout.js';
import { UpdatesError, messageOf } from '../core/errors.js';
import { parseModuleManifest } from '../core/manifest.js';
import type { ModuleFile, RemoteModule } from './snapshot.js';
import { makeRecord, verifyVersionDir } from './install-record.js';

/** Turns a staged module folder into the code the sandbox runs. Throws UpdatesError E_BUILD when it cannot. */
export type BuildModule = (moduleDir: string, moduleName: string) => Promise<string>;

/** Test hook: called at each step boundary, so tests can kill the process exactly there. */
export type StepHook = (step: string, module: string) => void | Promise<void>;
const noHook: StepHook = () => undefined;

/** The version folder name of a module at a tree. */
export const versionDirName = (version: string, treeOid: string): string => `${version}-${treeOid.slice(0, 12)}`;

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
  if (mod.manifest === undefined) throw new Error(`stageModule: ${mod.name} has no valid manifest`);
  if (mod.unchanged === true) throw new Error(`stageModule: ${mod.name} was not read from the commit (same tree as installed)`);
  const version = mod.manifest.metadata.schema_version;
  const parent = versionsOf(layout, mod.name);
  let dirName = versionDirName(version, mod.treeOid);
  if (await exists(path.join(parent, dirName))) {
    if ((await verifyVersionDir(path.join(parent, dirName))) === undefined) return dirName;
    dirName = `${dirName}-r${randomBytes(3).toString('hex')}`;
  }
  const final = path.join(parent, dirName);
  await fsp.mkdir(parent, { recursive: true });
  const staging = path.join(parent, `.staging-${randomBytes(6).toString('hex')}`);
  try {
    await writeFiles(repoDir, mod.files, staging, blobs);
    await hook('files-written', mod.name);
    const check = parseModuleManifest(await fsp.readFile(path.join(staging, 'index.json'), 'utf8'), mod.name);
    if (!check.ok) throw new UpdatesError('E_MANIFEST_INVALID', { module: mod.name, detail: check.reason });
    const code = await build(staging, mod.name);
    await fsp.mkdir(path.join(staging, ADDED_DIR), { recursive: true });
    await fsp.writeFile(path.join(staging, BUNDLE_FILE), code);
    const record = await makeRecord(staging, { module: mod.name, version, commit, tree: mod.treeOid, installedAt: new Date().toISOString() });
    await fsp.writeFile(path.join(staging, INSTALL_RECORD), `${JSON.stringify(record, null, 2)}\n`);
    await fsyncTree(staging);
    await hook('staged', mod.name);
    await fsp.rm(final, { recursive: true, force: true });
    await fsp.rename(staging, final);
    await fsyncPath(parent);
    await hook('version-published', mod.name);
    return dirName;
  } catch (err) {
    await fsp.rm(staging, { recursive: true, force: true });
    if (err instanceof UpdatesError) throw err;
    if (err instanceof UnsafeTreeError) throw new UpdatesError('E_MODULE_CONTENT', { module: mod.name, detail: `refused, not installed: ${err.message}` });
    throw new UpdatesError('E_INSTALL', { module: mod.name, detail: messageOf(err) }, { cause: err });
  }
}

/**
 * Writes files of a commit (paths relative to `staging`, which must not exist yet) from the clone's objects,
 * through the one safe writer (tree-writer.ts).
 */
export async function writeFiles(repoDir: string, files: readonly ModuleFile[], staging: string, preloaded?: Map<string, Buffer>): Promise<void> {
  const blobs = preloaded ?? (await readBlobs(repoDir, files.map((f) => f.oid)));
  await writeTree(staging, files.map((f) => {
    const content = blobs.get(f.oid);
    if (content === undefined) throw new Error(`object ${f.oid} of ${f.rel} is missing from the clone`);
    return { rel: f.rel, mode: f.mode, content };
  }));
}

/**
 * Makes `dirName` the live version of `name`. The version live before becomes `previous`, for rollback (unless it
 * is a damaged copy being repaired (`repairs`): then `previous` stays as it was), and the new one goes on trial
 * until its first run. Order matters: `previous` and `.trial` are written before the live link moves, so a crash
 * anywhere leaves the next run knowing what to roll back to and that it has to.
 */
export async function activate(layout: Layout, name: string, dirName: string, hook: StepHook = noHook, repairs = false): Promise<void> {
  await fsp.mkdir(layout.modulesDir, { recursive: true });
  const live = liveLink(layout, name);
  await adoptPlainFolder(layout, name);
  const current = await readLinkOrUndefined(live);
  const next = linkTarget(name, dirName);
  if (current === next) return;
  if (current !== undefined && !repairs) {
    await flipSymlink(previousLink(layout, name), path.basename(current));
    await hook('previous-recorded', name);
  }
  await flipSymlink(trialLink(layout, name), dirName);
  await hook('trial-recorded', name);
  await flipSymlink(live, next);
  await hook('flipped', name);
}

/**
 * A seed-era install has modules/<name> as a plain folder, which rename() cannot replace by a link.
 * Move it into .versions first (one rename), then link it, so it becomes the rollback target.
 */
async function adoptPlainFolder(layout: Layout, name: string): Promise<void> {
  const live = liveLink(layout, name);
  const st = await fsp.lstat(live).catch(() => undefined);
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

/** The live version of `name` completed its first run: it is on trial no more. */
export async function endTrial(layout: Layout, name: string): Promise<void> {
  await fsp.rm(trialLink(layout, name), { force: true });
}

/**
 * Removes what no link refers to: interrupted staging folders, temp links and versions older than `previous`.
 * Runs at the start of every run, so a crash's leftovers never accumulate.
 */
export async function collectGarbage(layout: Layout): Promise<string[]> {
  const removed: string[] = [];
  const modules = readdirOrEmpty(layout.versionsDir);
  for (const name of modules) {
    const dir = versionsOf(layout, name);
    const keep = new Set<string>();
    const live = readLinkOrUndefinedSync(liveLink(layout, name));
    if (live !== undefined) keep.add(path.basename(live));
    const prev = readLinkOrUndefinedSync(previousLink(layout, name));
    if (prev !== undefined) keep.add(prev);
    // The trial mark stays only while it names the live version (a kill before the flip leaves it naming another).
    const trial = readLinkOrUndefinedSync(trialLink(layout, name));
    const trialKept = trial !== undefined && live !== undefined && trial === path.basename(live);
    for (const entry of readdirSync(dir)) {
      if (entry === 'previous' || keep.has(entry) || (entry === '.trial' && trialKept)) continue;
      await fsp.rm(path.join(dir, entry), { recursive: true, force: true });
      removed.push(`${name}/${entry}`);
    }
    if (live === undefined && prev === undefined) await fsp.rm(dir, { recursive: true, force: true });
  }
  for (const entry of readdirOrEmpty(layout.modulesDir)) {
    if (entry.startsWith('.')) {
      await fsp.rm(path.join(layout.modulesDir, entry), { recursive: true, force: true });
      removed.push(`modules/${entry}`);
    }
  }
  return removed;
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(() => true, () => false);
}
