/**
 * Reads what a commit offers: the root index.json and every module folder under modules/, straight from
 * git objects, tree by tree (git-tree.ts). Checks repository content before anything is staged: folder names,
 * entries no file may have (`..`, a name twice...), symlinks that leave a module's folder, submodules and absurd
 * sizes are refused with the module and file named.
 */
import { CATALOGUE, messageOf } from '../core/errors.js';
import { contentProblem } from '../core/module-content.js';
import { readBlobs, readObjects } from './git.js';
import type { ObjectSource } from './git.js';
import { ObjectReader } from './object-reader.js';
import { commitTree, entryNameProblem, parseTree, readTree, walkTrees } from './git-tree.js';
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
  /**
   * The tree is the one the installed version came from: its files were not read (`files` is empty) and its
   * manifest is the installed one. Such a module is current or held, never installed.
   */
  unchanged?: true;
  problem?: { code: 'E_MANIFEST_INVALID' | 'E_MODULE_NAME' | 'E_MODULE_CONTENT'; message: string };
}

export interface Snapshot {
  commit: string;
  rootIndex?: RootIndex;
  rootIndexProblem?: string;
  modules: RemoteModule[];
}

/** An installed module as the snapshot may reuse it: the tree it was installed from and its (valid) manifest. */
export interface KnownModule { tree: string; manifest: ModuleManifest }

/**
 * Reads the snapshot of `commit` from the bare clone, through one cat-file process (two when files are
 * walked): a reader of its own when given the clone's folder, else the caller's (which closes it). A module
 * folder whose tree is the one `installed` was installed from is not read again: the same tree is the same
 * files, checked and parsed when they were installed (see RemoteModule.unchanged).
 */
export async function readSnapshot(repo: ObjectSource, commit: string, installed: ReadonlyMap<string, KnownModule> = new Map()): Promise<Snapshot> {
  if (typeof repo !== 'string') return readWith(repo, commit, installed);
  const reader = new ObjectReader(repo);
  try {
    return await readWith(reader, commit, installed);
  } finally {
    reader.close();
  }
}

async function readWith(repoDir: ObjectReader, commit: string, installed: ReadonlyMap<string, KnownModule>): Promise<Snapshot> {
  const snapshot: Snapshot = { commit, modules: [] };
  const top = await readTree(repoDir, await commitTree(repoDir, commit)).catch((err: unknown) => messageOf(err));
  if (typeof top === 'string') {
    snapshot.rootIndexProblem = `the commit's top folder cannot be read safely: ${top}`;
    return snapshot;
  }
  const rootOid = top.find((e) => e.name === 'index.json' && e.mode !== '40000' && e.mode !== '160000')?.oid;
  const modulesOid = top.find((e) => e.name === 'modules' && e.mode === '40000')?.oid;
  const moduleFolders = modulesOid === undefined ? [] : await moduleTrees(repoDir, modulesOid);
  const unchanged = (f: { name: string; oid: string; problem?: string }): KnownModule | undefined => {
    const known = f.problem === undefined ? installed.get(f.name) : undefined;
    return known?.tree === f.oid ? known : undefined;
  };
  const walks = await walkTrees(repoDir, moduleFolders.filter((f) => f.problem === undefined && unchanged(f) === undefined).map((f) => ({ key: f.name, oid: f.oid })));
  const manifestOids = [...walks.values()].map((w) => w.files?.find((f) => f.rel === 'index.json')?.oid);
  const symlinkOids = [...walks.values()].flatMap((w) => (w.files ?? []).filter((f) => f.mode === '120000').map((f) => f.oid));
  const wanted = [...manifestOids, ...symlinkOids, rootOid].filter((o): o is string => o !== undefined);
  const blobs = await readBlobs(repoDir, wanted);

  if (rootOid === undefined) snapshot.rootIndexProblem = 'index.json is missing at the repository root';
  else {
    const parsed = parseRoot(blobs.get(rootOid)?.toString('utf8') ?? '');
    if (typeof parsed === 'string') snapshot.rootIndexProblem = parsed;
    else snapshot.rootIndex = parsed;
  }
  for (const folder of moduleFolders) {
    const known = unchanged(folder);
    if (known !== undefined) {
      snapshot.modules.push({ name: folder.name, treeOid: folder.oid, files: [], manifest: known.manifest, unchanged: true });
      continue;
    }
    const walk = walks.get(folder.name);
    const problem = folder.problem ?? walk?.problem;
    snapshot.modules.push(inspectModule(folder.name, folder.oid, walk?.files ?? [], blobs, problem));
  }
  snapshot.modules.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return snapshot;
}

/**
 * The module folders of the `modules` tree. The tree's own names are checked here too: a name twice (two
 * trees both called "web") refuses that module, whichever of the two a reader would have picked.
 */
async function moduleTrees(repoDir: ObjectReader, oid: string): Promise<Array<{ name: string; oid: string; problem?: string }>> {
  const objects = await readObjects(repoDir, [oid]);
  const data = objects.get(oid);
  if (data?.type !== 'tree') return [];
  const out = new Map<string, { name: string; oid: string; problem?: string }>();
  for (const e of parseTree(data.data, oid.length / 2)) {
    if (e.mode !== '40000') continue;
    const name = e.name ?? '(not UTF-8)';
    const bad = e.name === undefined ? 'a name that is not valid UTF-8' : entryNameProblem(e.name);
    if (out.has(name)) out.set(name, { name, oid: e.oid, problem: `modules/${name} appears twice in the modules folder; a tree may hold each name once` });
    else out.set(name, { name, oid: e.oid, ...(bad !== undefined ? { problem: `modules/ holds a folder with ${bad}` } : {}) });
  }
  return [...out.values()];
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

function inspectModule(name: string, treeOid: string, files: ModuleFile[], blobs: Map<string, Buffer>, treeProblem?: string): RemoteModule {
  const mod: RemoteModule = { name, treeOid, files };
  const refuse = (code: NonNullable<RemoteModule['problem']>['code'], detail: string): RemoteModule => {
    mod.problem = { code, message: CATALOGUE[code]({ module: name, detail }) };
    return mod;
  };
  if (!MODULE_NAME_RE.test(name)) return refuse('E_MODULE_NAME', '');
  if (treeProblem !== undefined) return refuse('E_MODULE_CONTENT', `refused, not installed: ${treeProblem}`);
  const contentProblem = checkContent(files, blobs);
  if (contentProblem !== undefined) return refuse('E_MODULE_CONTENT', contentProblem);
  const manifestFile = files.find((f) => f.rel === 'index.json');
  if (manifestFile === undefined) return refuse('E_MANIFEST_INVALID', 'index.json is missing');
  const parsed = parseModuleManifest(blobs.get(manifestFile.oid)?.toString('utf8') ?? '', name);
  if (!parsed.ok) return refuse('E_MANIFEST_INVALID', parsed.reason);
  mod.manifest = parsed.manifest;
  return mod;
}

/** Why a module's files must not be installed, or undefined: the folder rules of core/module-content.ts. */
function checkContent(files: ModuleFile[], blobs: Map<string, Buffer>): string | undefined {
  return contentProblem(
    files.map((f) => ({
      rel: f.rel,
      size: f.size,
      ...(f.mode === '160000' ? { submodule: true } : {}),
      ...(f.mode === '120000' ? { linkTarget: blobs.get(f.oid)?.toString('utf8') ?? '' } : {}),
    })),
  );
}
