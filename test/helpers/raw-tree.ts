/**
 * Test helpers that make git trees no `git add` would: entries named `..` or holding a "/", a name twice,
 * any mode. Objects are written with `git hash-object --literally`, so git's own checks do not stop them,
 * exactly as a hostile remote would make them.
 */
import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import path from 'node:path';
import type { TestRepo } from './repo.js';

/** One raw tree entry; `name` may be any bytes. */
export interface RawEntry { mode: string; name: string | Buffer; oid: string }

const git = (repo: TestRepo, args: string[], input?: Buffer | string): string =>
  execFileSync('git', args, { cwd: repo.dir, encoding: 'utf8', ...(input !== undefined ? { input } : {}), env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } }).trim();

/** Writes a blob; returns its id. */
export function blob(repo: TestRepo, content: string | Buffer): string {
  return git(repo, ['hash-object', '-w', '--stdin'], content);
}

/** Writes a tree of exactly these entries, in this order, unchecked; returns its id. */
export function rawTree(repo: TestRepo, entries: readonly RawEntry[]): string {
  const parts = entries.map((e) => Buffer.concat([Buffer.from(`${e.mode} `), Buffer.from(e.name), Buffer.from([0]), Buffer.from(e.oid, 'hex')]));
  return git(repo, ['hash-object', '-t', 'tree', '-w', '--literally', '--stdin'], Buffer.concat(parts));
}

/** The entries of a (well-formed) tree. */
export function entriesOf(repo: TestRepo, tree: string): RawEntry[] {
  return git(repo, ['ls-tree', '-z', tree])
    .split('\0')
    .filter((l) => l !== '')
    .map((line) => {
      const tab = line.indexOf('\t');
      const [mode = '', , oid = ''] = line.slice(0, tab).split(' ');
      return { mode: mode === '040000' ? '40000' : mode, name: line.slice(tab + 1), oid };
    });
}

/** A tree of nested folders `names[0]/names[1]/…` whose innermost folder is `inner`. */
export function nest(repo: TestRepo, names: readonly string[], inner: string): string {
  return names.reduceRight((child, name) => rawTree(repo, [{ mode: '40000', name, oid: child }]), inner);
}

/**
 * Commits on main (parent: the current head) the head's tree with the folder at `dir` (e.g. ['modules',
 * 'attacker']) replaced by the tree `edit` returns from that folder's entries. Returns the commit.
 */
export function commitEdited(repo: TestRepo, dir: readonly string[], edit: (entries: RawEntry[]) => RawEntry[], message = 'hostile tree'): string {
  const rebuild = (tree: string, depth: number): string => {
    const entries = entriesOf(repo, tree);
    // In git's order (stable: two entries of one name keep theirs), so the tree is refused for what it holds.
    if (depth === dir.length) return rawTree(repo, sortEntries(edit(entries)));
    const name = dir[depth] ?? '';
    const child = entries.find((e) => e.name === name);
    const childTree = rebuild(child?.oid ?? rawTree(repo, []), depth + 1);
    const rest = entries.filter((e) => e.name !== name);
    return rawTree(repo, sortEntries([...rest, { mode: '40000', name, oid: childTree }]));
  };
  const head = git(repo, ['rev-parse', 'HEAD']);
  const tree = rebuild(git(repo, ['rev-parse', 'HEAD^{tree}']), 0);
  const commit = git(repo, ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', 'commit-tree', tree, '-p', head, '-m', message]);
  git(repo, ['update-ref', 'refs/heads/main', commit]);
  return commit;
}

/** Entries in git's tree order (a stable sort). */
function sortEntries(entries: RawEntry[]): RawEntry[] {
  return entries.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}

/** git orders a folder as if its name ended with "/". */
function sortKey(e: RawEntry): string {
  const name = Buffer.from(e.name).toString('latin1');
  return e.mode === '40000' ? `${name}/` : name;
}

/**
 * Makes the orchestrator's clone at `repoDir` hold every object of `repo` and its main as the tracking ref, as a
 * clone fetched without object checks (or fed by other means) would: the orchestrator's next fetch then
 * transfers nothing, and git's checks at fetch never see these objects. Objects are copied, not fetched,
 * because git's own transport refuses to send some hostile trees at all.
 */
export function seedClone(repo: TestRepo, repoDir: string): void {
  execFileSync('git', ['init', '-q', '--bare', repoDir]);
  execFileSync('git', ['remote', 'add', 'origin', repo.url], { cwd: repoDir });
  cpSync(path.join(repo.dir, '.git', 'objects'), path.join(repoDir, 'objects'), { recursive: true });
  execFileSync('git', ['update-ref', 'refs/remotes/origin/main', git(repo, ['rev-parse', 'HEAD'])], { cwd: repoDir });
}
