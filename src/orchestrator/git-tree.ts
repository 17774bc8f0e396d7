/**
 * Reads git trees entry by entry from their raw objects, and refuses what cannot be written safely.
 *
 * `git ls-tree -r` joins names with "/", so an entry named `..`, or one holding a "/", looks like an ordinary
 * path, and two entries with one name look like two files. Here every name is checked on its own, in the tree
 * that holds it: empty, `.`, `..`, a "/" or NUL, bytes that are not UTF-8, a name twice in one tree, an
 * unknown mode and a tree deeper than a limit are refused, whatever git's own fsck let through.
 */
import { DEFAULTS } from '../core/defaults.js';
import { readObjects } from './git.js';
import type { ObjectSource } from './git.js';

/** A file of a tree: its path from the tree's top ("/"-joined checked names), mode, blob id and size. */
export interface TreeFile { rel: string; mode: string; oid: string; size: number }

/** A walked tree: its files, or why it must not be written (the first problem found). */
export type TreeWalk = { files: TreeFile[]; problem?: undefined } | { files?: undefined; problem: string };

/** One raw entry of a tree object. */
export interface RawEntry { mode: string; name: string; oid: string }

/** The modes git writes: regular, executable, symlink, folder, submodule (gitlink). */
const KNOWN_MODES = new Set(['100644', '100755', '120000', '40000', '160000']);
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Why `name` cannot be an entry written to disk, or undefined. */
export function entryNameProblem(name: string): string | undefined {
  if (name === '') return 'an empty name';
  if (name === '.' || name === '..') return `the name "${name}"`;
  if (name.includes('/')) return 'a "/" in its name';
  if (name.includes('\0')) return 'a NUL byte in its name';
  return undefined;
}

/**
 * The entries of a raw tree object (`<mode> <name>\0<binary id>`, repeated). `hashBytes` is 20 for SHA-1
 * repositories, 32 for SHA-256. A name that is not valid UTF-8 is returned as `undefined` (refused later).
 */
export function parseTree(data: Buffer, hashBytes: number): Array<RawEntry | { mode: string; name: undefined; oid: string }> {
  const out: Array<RawEntry | { mode: string; name: undefined; oid: string }> = [];
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    const nul = data.indexOf(0x00, space + 1);
    if (space < 0 || nul < 0 || nul + 1 + hashBytes > data.length) throw new Error('a tree object is truncated or malformed');
    const mode = data.subarray(pos, space).toString('latin1');
    let name: string | undefined;
    try {
      name = STRICT_UTF8.decode(data.subarray(space + 1, nul));
    } catch {
      name = undefined;
    }
    out.push({ mode, name, oid: data.subarray(nul + 1, nul + 1 + hashBytes).toString('hex') });
    pos = nul + 1 + hashBytes;
  }
  return out;
}

/** Reads the raw entries of one tree, checked as every tree is (names, duplicates, modes). */
export async function readTree(repoDir: ObjectSource, oid: string): Promise<RawEntry[]> {
  const [level] = await walkLevel(repoDir, [{ key: '', oid, prefix: '' }]);
  if (level === undefined || typeof level === 'string') throw new Error(level ?? `tree ${oid} is missing`);
  return level;
}

interface Pending { key: string; oid: string; prefix: string }

/** Reads one level of trees; per pending tree (same order), its checked entries or the problem found. */
async function walkLevel(repoDir: ObjectSource, pending: readonly Pending[]): Promise<Array<RawEntry[] | string>> {
  const objects = await readObjects(repoDir, pending.map((p) => p.oid));
  return pending.map((p) => {
    const obj = objects.get(p.oid);
    const where = p.prefix === '' ? 'the top folder' : `the folder "${p.prefix}"`;
    if (obj?.type !== 'tree') return `${where} is not a tree object`;
    const entries: RawEntry[] = [];
    const seen = new Set<string>();
    for (const e of parseTree(obj.data, p.oid.length / 2)) {
      if (e.name === undefined) return `an entry of ${where} has a name that is not valid UTF-8`;
      const bad = entryNameProblem(e.name);
      if (bad !== undefined) return `an entry of ${where} has ${bad}; such a tree can only be made to write outside the folder`;
      if (seen.has(e.name)) return `"${p.prefix}${e.name}" appears twice in ${where}; a tree may hold each name once`;
      if (!KNOWN_MODES.has(e.mode)) return `"${p.prefix}${e.name}" has the unknown mode ${e.mode}`;
      seen.add(e.name);
      entries.push({ mode: e.mode, name: e.name, oid: e.oid });
    }
    return entries;
  });
}

/**
 * Walks several trees at once (one `git cat-file` per level of depth, shared by all) and returns, per key,
 * every file below it or the first problem. `skipTop` names top-level entries to leave out (unchecked below).
 * Submodule entries are returned with mode 160000, for the caller to refuse or skip.
 */
export async function walkTrees(
  repoDir: ObjectSource,
  roots: ReadonlyArray<{ key: string; oid: string }>,
  skipTop: ReadonlySet<string> = new Set(),
): Promise<Map<string, TreeWalk>> {
  const files = new Map<string, TreeFile[]>(roots.map((r) => [r.key, []]));
  const problems = new Map<string, string>();
  let pending: Pending[] = roots.map((r) => ({ ...r, prefix: '' }));
  for (let depth = 1; pending.length > 0; depth += 1) {
    const level = await walkLevel(repoDir, pending);
    const next: Pending[] = [];
    pending.forEach((p, i) => {
      const result = level[i];
      if (problems.has(p.key)) return;
      if (result === undefined || typeof result === 'string') {
        problems.set(p.key, result ?? 'a tree is missing');
        return;
      }
      for (const e of result) {
        if (p.prefix === '' && skipTop.has(e.name)) continue;
        const rel = `${p.prefix}${e.name}`;
        if (e.mode !== '40000') files.get(p.key)?.push({ rel, mode: e.mode, oid: e.oid, size: 0 });
        else if (depth >= DEFAULTS.maxTreeDepth) problems.set(p.key, `"${rel}" is nested more than ${DEFAULTS.maxTreeDepth} folders deep`);
        else next.push({ key: p.key, oid: e.oid, prefix: `${rel}/` });
      }
      if ((files.get(p.key)?.length ?? 0) > DEFAULTS.maxTreeFiles) problems.set(p.key, `it holds more than ${DEFAULTS.maxTreeFiles} files`);
    });
    pending = next.filter((p) => !problems.has(p.key));
  }
  const blobs = [...files].filter(([key]) => !problems.has(key)).flatMap(([, list]) => list.filter((f) => f.mode !== '160000').map((f) => f.oid));
  const headers = await readObjects(repoDir, blobs, true);
  for (const [key, list] of files) {
    for (const f of list) {
      if (f.mode === '160000' || problems.has(key)) continue;
      const h = headers.get(f.oid);
      if (h?.type !== 'blob') problems.set(key, `"${f.rel}" is not a file (its object is a ${h?.type ?? 'missing object'})`);
      else f.size = h.size;
    }
  }
  return new Map(roots.map((r) => {
    const problem = problems.get(r.key);
    return [r.key, problem !== undefined ? { problem } : { files: files.get(r.key) ?? [] }];
  }));
}

/** The root tree of a commit. */
export async function commitTree(repoDir: ObjectSource, commit: string): Promise<string> {
  const obj = (await readObjects(repoDir, [commit])).get(commit);
  const tree = obj?.type === 'commit' ? /^tree ([0-9a-f]+)\n/.exec(obj.data.toString('latin1'))?.[1] : undefined;
  if (tree === undefined) throw new Error(`${commit} is not a commit`);
  return tree;
}
