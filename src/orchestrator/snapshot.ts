/**
 * Reads what a commit offers: the root index.json and every module folder under modules/, straight from
 * git objects. Checks repository content before anything is staged: folder names, symlinks that leave a
 * module's folder, submodules and absurd sizes are refused with the module and file named.
 */
import path from 'node:path';
import { DEFAULTS } from '../core/defaults.js';
import { CATALOGUE } from '../core/errors.js';
import { lsTree, readBlobs } from './git.js';
import type { TreeEntry } from './git.js';
import { MODULE_NAME_RE, describeIssues, parseModuleManifest, rootIndexSchema } from '../core/manifest.js';
import type { ModuleManifest, RootIndex } from '../core/manifest.js';

/** A file of a module at a commit, with its path relative to the module folder. */
export interface ModuleFile { rel: string; mode: string; oid: string; size: number }

/** A module as the commit has it. `problem` is set when it must not be installed. */
export interface RemoteModule {
  name: string;
  treeOid: string;
  files: ModuleFile[];
  manifest?: ModuleManifest;
  problem?: { code: 'E_MANIFEST_INVALID' | 'E_MODULE_NAME' | 'E_MODULE_CONTENT'; message: string };
}

export interface Snapshot {
  commit: string;
  rootIndex?: RootIndex;
  rootIndexProblem?: string;
  modules: RemoteModule[];
}

const MODULES_PREFIX = 'modules/';

/** Reads the snapshot of `commit` from the bare clone. */
export async function readSnapshot(repoDir: string, commit: string): Promise<Snapshot> {
  const [top, all, rootEntries] = await Promise.all([
    lsTree(repoDir, commit, MODULES_PREFIX, false),
    lsTree(repoDir, commit, MODULES_PREFIX, true),
    lsTree(repoDir, commit, 'index.json', false),
  ]);
  const folders = top.filter((e) => e.type === 'tree');
  const byModule = groupFiles(all);
  const manifestOids = folders
    .map((f) => byModule.get(path.posix.basename(f.path))?.find((e) => e.rel === 'index.json')?.oid)
    .filter((o): o is string => o !== undefined);
  const rootOid = rootEntries.find((e) => e.path === 'index.json' && e.type === 'blob')?.oid;
  const symlinkOids = all.filter((e) => e.mode === '120000').map((e) => e.oid);
  const blobs = await readBlobs(repoDir, [...manifestOids, ...symlinkOids, ...(rootOid ? [rootOid] : [])]);

  const snapshot: Snapshot = { commit, modules: [] };
  if (rootOid === undefined) snapshot.rootIndexProblem = 'index.json is missing at the repository root';
  else {
    const parsed = parseRoot(blobs.get(rootOid)?.toString('utf8') ?? '');
    if (typeof parsed === 'string') snapshot.rootIndexProblem = parsed;
    else snapshot.rootIndex = parsed;
  }
  for (const folder of folders) {
    const name = path.posix.basename(folder.path);
    snapshot.modules.push(inspectModule(name, folder.oid, byModule.get(name) ?? [], blobs));
  }
  snapshot.modules.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return snapshot;
}

function parseRoot(text: string): RootIndex | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return `index.json is not valid JSON: ${(err as Error).message}`;
  }
  const r = rootIndexSchema.safeParse(json);
  return r.success ? r.data : describeIssues(r.error);
}

function groupFiles(entries: TreeEntry[]): Map<string, ModuleFile[]> {
  const out = new Map<string, ModuleFile[]>();
  for (const e of entries) {
    const rest = e.path.slice(MODULES_PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash < 0) continue;
    const name = rest.slice(0, slash);
    const list = out.get(name) ?? [];
    list.push({ rel: rest.slice(slash + 1), mode: e.mode, oid: e.oid, size: e.size });
    out.set(name, list);
  }
  return out;
}

function inspectModule(name: string, treeOid: string, files: ModuleFile[], blobs: Map<string, Buffer>): RemoteModule {
  const mod: RemoteModule = { name, treeOid, files };
  const refuse = (code: NonNullable<RemoteModule['problem']>['code'], detail: string): RemoteModule => {
    mod.problem = { code, message: CATALOGUE[code]({ module: name, detail }) };
    return mod;
  };
  if (!MODULE_NAME_RE.test(name)) return refuse('E_MODULE_NAME', '');
  const contentProblem = checkContent(files, blobs);
  if (contentProblem !== undefined) return refuse('E_MODULE_CONTENT', contentProblem);
  const manifestFile = files.find((f) => f.rel === 'index.json');
  if (manifestFile === undefined) return refuse('E_MANIFEST_INVALID', 'index.json is missing');
  const parsed = parseModuleManifest(blobs.get(manifestFile.oid)?.toString('utf8') ?? '', name);
  if (!parsed.ok) return refuse('E_MANIFEST_INVALID', parsed.reason);
  mod.manifest = parsed.manifest;
  return mod;
}

/** Why a module's files must not be installed, or undefined. */
function checkContent(files: ModuleFile[], blobs: Map<string, Buffer>): string | undefined {
  let total = 0;
  for (const f of files) {
    if (f.mode === '160000') return `${f.rel} is a git submodule; modules must hold their files`;
    if (f.rel.split('/')[0] === '.updates') return `${f.rel}: the folder .updates is reserved for the orchestrator`;
    if (f.mode === '120000') {
      const target = blobs.get(f.oid)?.toString('utf8') ?? '';
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(f.rel), target));
      if (path.posix.isAbsolute(target) || resolved === '..' || resolved.startsWith('../')) {
        return `${f.rel} is a symlink to "${target}", outside the module's folder`;
      }
    }
    if (f.size > DEFAULTS.maxModuleFileBytes) return `${f.rel} is ${f.size} bytes, over the limit of ${DEFAULTS.maxModuleFileBytes}`;
    total += f.size;
  }
  if (total > DEFAULTS.maxModuleBytes) return `the folder holds ${total} bytes, over the limit of ${DEFAULTS.maxModuleBytes}`;
  return undefined;
}
