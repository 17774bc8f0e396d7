/**
 * What is installed: each live link under modules/, the version folder it points to and that folder's manifest.
 * This is the truth the global index is derived from.
 */
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { readLinkOrUndefinedSync } from '../core/fs-atomic.js';
import path from 'node:path';
import * as semver from '../core/semver.js';
import { ADOPTED_PREFIX, liveLink, previousLink, VERSION_DIR_NAME, versionsOf } from './layout.js';
import { checkVersionDirSync } from './install-record.js';
import type { Layout } from './layout.js';
import { parseModuleManifest } from '../core/manifest.js';
import type { ModuleManifest } from '../core/manifest.js';
import { errnoCode } from '../core/errno.js';

export interface InstalledModule {
  name: string;
  /** The live folder (resolved). */
  dir: string;
  /** Basename of the version folder, e.g. "1.2.0-ab12cd34ef56"; undefined for a plain folder (a seed-era install). */
  versionDir?: string;
  manifest?: ModuleManifest;
  /** The installed semantic version, when the manifest parses. */
  version?: string;
  /** Why the installed copy is unusable. */
  problem?: string;
  /** Why the live version folder no longer holds what was installed (only when read with `verify`). */
  damaged?: string;
  /** The git tree of the module folder it was installed from (from its install record; only when read with `verify`). */
  tree?: string;
}

export interface ReadInstalledOptions {
  /** Verify each live version folder against its install record (sizes and checksums of manifest and bundle). */
  verify?: boolean;
}

/**
 * Lists installed modules, sorted by name. Hidden entries (temp links of an interrupted flip) are ignored.
 *
 * The reads are synchronous: a run reads every installed module several times (verify, plan, index, Phase 2),
 * and each is a link, a manifest, a record and a bundle of a few KB. A thread-pool round trip per system call
 * costs more than the calls themselves (at 100 modules, ~60 ms against ~8 ms). Every YIELD_EVERY modules the
 * event loop gets a turn, so the fetch that Phase 1 runs beside this read (git processes) is not held up by it.
 */
export async function readInstalled(layout: Layout, o: ReadInstalledOptions = {}): Promise<InstalledModule[]> {
  let names: string[];
  try {
    names = readdirSync(layout.modulesDir).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const out: InstalledModule[] = [];
  for (let i = 0; i < names.length; i++) {
    // Between slices, the event loop runs: a fetch started beside this read goes on with its next step.
    if (i > 0 && i % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    const m = readOneSync(layout, names[i] as string, o);
    if (m !== undefined) out.push(m);
  }
  return out;
}

/** Modules read between two turns of the event loop. */
const YIELD_EVERY = 32;

/** Reads one installed module, or undefined when nothing by that name is installed. */
export async function readOne(layout: Layout, name: string, o: ReadInstalledOptions = {}): Promise<InstalledModule | undefined> {
  return readOneSync(layout, name, o);
}

function readOneSync(layout: Layout, name: string, o: ReadInstalledOptions): InstalledModule | undefined {
  const link = liveLink(layout, name);
  const st = lstatSync(link, { throwIfNoEntry: false });
  if (st === undefined) return undefined;
  const mod: InstalledModule = { name, dir: link };
  if (st.isSymbolicLink()) {
    const target = readlinkSync(link);
    mod.versionDir = path.basename(target);
    mod.dir = path.resolve(path.dirname(link), target);
  } else if (!st.isDirectory()) {
    return { ...mod, problem: 'not a folder or link' };
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path.join(mod.dir, 'index.json'));
  } catch {
    return { ...mod, problem: 'index.json is missing' };
  }
  const parsed = parseModuleManifest(bytes.toString('utf8'), name);
  if (!parsed.ok) return { ...mod, problem: parsed.reason };
  mod.manifest = parsed.manifest;
  const version = semver.valid(parsed.manifest.metadata.schema_version);
  if (version !== null) mod.version = version;
  // Seed-era folders (plain or adopted) were not installed by this orchestrator and have no record.
  if (o.verify === true && mod.versionDir !== undefined && !mod.versionDir.startsWith(ADOPTED_PREFIX)) {
    // The manifest is checked in the very bytes just parsed, not read a second time.
    const { damaged, tree } = checkVersionDirSync(mod.dir, new Map([['index.json', bytes]]));
    if (damaged !== undefined) mod.damaged = damaged;
    if (tree !== undefined) mod.tree = tree;
  }
  return mod;
}

/** The version a module's `previous` link (its rollback target) points to, or undefined when there is none. */
export async function readPrevious(layout: Layout, name: string): Promise<{ versionDir: string; version?: string } | undefined> {
  // Synchronous, as readInstalled: the metrics read this for every installed module at the end of each run.
  const target = readLinkOrUndefinedSync(previousLink(layout, name));
  if (target === undefined) return undefined;
  const dir = path.join(versionsOf(layout, name), target);
  // A folder this orchestrator installed is named after the version its manifest declares (versionDirName).
  const named = VERSION_DIR_NAME.exec(target)?.[1];
  const fromName = named !== undefined ? semver.valid(named) : null;
  if (fromName !== null) return lstatSync(path.join(dir, 'index.json'), { throwIfNoEntry: false }) !== undefined ? { versionDir: target, version: fromName } : undefined;
  let text: string;
  try {
    text = readFileSync(path.join(dir, 'index.json'), 'utf8');
  } catch {
    return undefined;
  }
  const parsed = parseModuleManifest(text, name);
  const version = parsed.ok ? semver.valid(parsed.manifest.metadata.schema_version) ?? undefined : undefined;
  return { versionDir: target, ...(version !== undefined ? { version } : {}) };
}
