/**
 * Git access: a private bare clone kept in the install root's state folder, fetched each run, and read by
 * commit (never through a working tree, so stray or edited files cannot leak into an install).
 */
import { execFile, spawn } from 'node:child_process';
import { promises as fsp, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import path from 'node:path';
import type { SimpleGit } from 'simple-git';
import { DEFAULTS } from '../core/defaults.js';
import { UpdatesError, messageOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { GitTimeoutError, gitNetwork } from './git-net.js';
import type { ObjectReader } from './object-reader.js';

/**
 * The environment of every git process: built from nothing, so no inherited variable or user/system config
 * can redirect a fetch or prompt for a password in an unattended run.
 */
export const GIT_ENV: Readonly<Record<string, string>> = {
  PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
  HOME: process.env['HOME'] ?? '/root',
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  LC_ALL: 'C',
};

/** simple-git at `dir` (loaded on first use: a run with an intact clone needs it only to read a tree). */
export async function gitAt(dir: string, timeoutMs: number = DEFAULTS.gitTimeoutMs, signal?: AbortSignal): Promise<SimpleGit> {
  const { simpleGit } = await import('simple-git');
  // simple-git guards these variables against injection; here they are ours, set from constants above.
  return simpleGit({
    baseDir: dir,
    timeout: { block: timeoutMs },
    ...(signal !== undefined ? { abort: signal } : {}),
    unsafe: { allowUnsafeConfigPaths: true },
    allowEnvironment: ['GIT_TERMINAL_PROMPT', 'GIT_CONFIG_NOSYSTEM', 'GIT_CONFIG_GLOBAL'],
  }).env(GIT_ENV);
}

export interface SyncOptions {
  repoDir: string;
  url: string;
  branch: string;
  logger: Logger;
  /** How much one fetch may grow the clone, bytes ("endless data" defence). */
  maxFetchBytes?: number;
  /** Deadline of each network operation, ms. */
  timeoutMs?: number;
  /**
   * A reader of the clone's objects, started after the fetch: the fetched branch's commit is resolved through it
   * (the reader the snapshot then reads with) instead of a `git rev-parse` process of its own.
   */
  reader?: ObjectReader;
}

export interface SyncResult {
  commit: string;
  /** True when the local clone was missing, corrupt or pointed elsewhere and was made anew. */
  recloned: boolean;
}

const trackingRef = (branch: string): string => `refs/remotes/origin/${branch}`;

/** Runs one git command in `repoDir` and resolves with its stdout and exit status (never rejects). */
function gitOut(repoDir: string, args: readonly string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd: repoDir, env: GIT_ENV, timeout: DEFAULTS.gitTimeoutMs }, (err, stdout) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout });
    });
  });
}

/**
 * Whether `repoDir` is a bare repository whose origin is `url`, judged from its config file when that is as plain
 * as createClone() writes it; undefined when git must read it (an include, quoting, a key twice: see
 * isUsableCloneByGit). Direct system calls, not the thread pool: with no round trip before it, the fetch starts
 * within syncRepository's first synchronous step, before its caller goes on to read what is installed (a read
 * that gives the event loop few turns, each of which a round trip would have waited for).
 */
function isUsableCloneNow(repoDir: string, url: string): boolean | undefined {
  if (statSync(repoDir, { throwIfNoEntry: false })?.isDirectory() !== true) return false;
  let settings: Map<string, string> | undefined;
  try {
    settings = plainConfig(readFileSync(path.join(repoDir, 'config'), 'utf8'));
  } catch {
    return undefined;
  }
  return settings === undefined ? undefined : isCloneOf(settings, url);
}

/** isUsableCloneNow's question, answered by git. `--git-dir`: a folder that is no repository (or a damaged one) yields nothing, never a parent's settings. */
async function isUsableCloneByGit(repoDir: string, url: string): Promise<boolean> {
  return isCloneOf(await gitConfig(repoDir), url);
}

function isCloneOf(settings: ReadonlyMap<string, string>, url: string): boolean {
  return settings.get('core.bare') === 'true' && settings.get('remote.origin.url') === url;
}

/** core.bare and remote.origin.url as git reads them (one process). */
async function gitConfig(repoDir: string): Promise<Map<string, string>> {
  const { stdout } = await gitOut(repoDir, ['--git-dir', repoDir, 'config', '--get-regexp', '^(core\\.bare|remote\\.origin\\.url)$']);
  return new Map(stdout.split('\n').filter((l) => l !== '').map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]));
}

const SECTION_LINE = /^\s*\[([A-Za-z0-9.-]+)(?:\s+"([^"\\]*)")?\]\s*$/;
const KEY_LINE = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*([^"\\#;]*?))?\s*$/;

/**
 * Every key of a git config file as `section.subsection.key` (value, or "true" for a bare key), when the file uses
 * nothing but plain sections and unquoted values, and no key twice; undefined otherwise (git reads it then).
 */
export function plainConfig(text: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  let section: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const head = SECTION_LINE.exec(line);
    if (head !== null) {
      const name = (head[1] as string).toLowerCase();
      if (name === 'include' || name === 'includeif') return undefined;
      section = head[2] !== undefined ? `${name}.${head[2]}` : name;
      continue;
    }
    const kv = KEY_LINE.exec(line);
    if (kv === null || section === undefined) return undefined;
    const key = `${section}.${(kv[1] as string).toLowerCase()}`;
    if (out.has(key)) return undefined;
    out.set(key, kv[2] ?? 'true');
  }
  return out;
}

/** Makes a new empty bare clone in a temp folder and moves it into place, so a crash never leaves half a repo. */
async function createClone(repoDir: string, url: string): Promise<void> {
  await fsp.mkdir(path.dirname(repoDir), { recursive: true });
  const tmp = `${repoDir}.new-${process.pid}`;
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(tmp);
  const git = await gitAt(tmp);
  await git.init(true);
  await git.addRemote('origin', url);
  await fsp.rm(repoDir, { recursive: true, force: true });
  await fsp.rename(tmp, repoDir);
}

/** What a clone's objects folder holds: its total size, its packs and its loose objects. */
interface ObjectStats { bytes: number; packs: number; loose: number }

/**
 * Sizes and counts of the files under a clone's `objects` folder (one walk). Synchronous, as readInstalled: a
 * clone holds up to LOOSE_OBJECTS_LIMIT loose objects, and a thread-pool round trip per file cost ten times the
 * system call (about 450 ms against 100 for 6,800 files, measured here); the walk runs before the fetch, after it,
 * and every WATCHDOG_MS while it goes on.
 */
function objectStats(objects: string): ObjectStats {
  const stats: ObjectStats = { bytes: 0, packs: 0, loose: 0 };
  let entries: Dirent[];
  try {
    entries = readdirSync(objects, { withFileTypes: true, recursive: true });
  } catch {
    return stats;
  }
  for (const e of entries) {
    if (!e.isFile()) continue;
    const dir = path.basename(e.parentPath);
    if (dir === 'pack' && e.name.endsWith('.pack')) stats.packs += 1;
    else if (/^[0-9a-f]{2}$/.test(dir)) stats.loose += 1;
    // A file the fetch renamed or removed since the listing counts for nothing.
    stats.bytes += lstatSync(path.join(e.parentPath, e.name), { throwIfNoEntry: false })?.size ?? 0;
  }
  return stats;
}

/**
 * When the clone is packed (`git maintenance run --auto`, with git's gc.auto and gc.autoPackLimit set to these):
 * more loose objects than LOOSE_OBJECTS_LIMIT, or more packs than PACKS_LIMIT. A fetch does not start maintenance
 * itself (maintenance.auto=false: one process less per run); the clone is packed here, in the foreground, so
 * nothing of the run outlives it. Loose objects are packed well before git's own 6,700: each run walks the
 * objects folder (objectStats), and a clone is only a cache of the remote, whose small fetches (fewer objects
 * than git's unpackLimit, 100) arrive loose; packing a thousand of them is one short `git repack`.
 */
const LOOSE_OBJECTS_LIMIT = 1000;
const PACKS_LIMIT = 50;

/** How often the watchdog of a fetch measures the clone's objects. */
const WATCHDOG_MS = 200;

/** Packs the clone when git's thresholds say so; a failure only leaves it unpacked until the next run. */
async function maintainClone(repoDir: string, stats: ObjectStats, logger: Logger): Promise<void> {
  if (stats.loose <= LOOSE_OBJECTS_LIMIT && stats.packs <= PACKS_LIMIT) return;
  logger.info({ loose: stats.loose, packs: stats.packs }, 'packing the local clone');
  const { code } = await gitOut(repoDir, ['-c', 'gc.autoDetach=false', '-c', `gc.auto=${LOOSE_OBJECTS_LIMIT}`, '-c', `gc.autoPackLimit=${PACKS_LIMIT}`, 'maintenance', 'run', '--auto', '--quiet']);
  if (code !== 0) logger.warn({ code }, 'packing the local clone failed; it is tried again on the next run');
}

/**
 * Fetches the branch into its tracking ref. A watchdog stops the fetch when the clone's objects grow by more
 * than `maxBytes`, so a hostile remote cannot fill the disk; git's own timeout bounds its duration.
 */
async function fetchBranch(repoDir: string, url: string, branch: string, maxBytes: number, logger: Logger, timeoutMs?: number): Promise<void> {
  const objects = path.join(repoDir, 'objects');
  const before = objectStats(objects).bytes;
  const ac = new AbortController();
  const watchdog = setInterval(() => {
    if (objectStats(objects).bytes - before > maxBytes) ac.abort();
  }, WATCHDOG_MS);
  const tooLarge = () => new UpdatesError('E_FETCH_TOO_LARGE', { url, limitMb: String(Math.round(maxBytes / 2 ** 20)) });
  try {
    await gitNetwork(repoDir, [...FSCK_CONFIG, '-c', 'maintenance.auto=false', 'fetch', '--no-tags', '--prune', '--force', 'origin', `+refs/heads/${branch}:${trackingRef(branch)}`], { signal: ac.signal, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  } catch (err) {
    if (ac.signal.aborted) {
      await removeFetchLeftovers(objects);
      throw tooLarge();
    }
    const refused = fsckRefusal(messageOf(err));
    if (refused !== undefined) {
      await removeFetchLeftovers(objects);
      throw new UpdatesError('E_SYNC_BAD_OBJECTS', { url, branch, detail: refused });
    }
    throw err;
  } finally {
    clearInterval(watchdog);
  }
  // A fetch quicker than the watchdog's tick is caught here. The clone is only a cache: dropping it discards
  // the oversized objects, and the next run fetches anew (and is refused again while the remote stays too large).
  const after = objectStats(objects);
  if (after.bytes - before > maxBytes) {
    await fsp.rm(repoDir, { recursive: true, force: true });
    throw tooLarge();
  }
  await maintainClone(repoDir, after, logger);
}

/**
 * Every fetched object is checked by git (fsck) before it enters the clone: a tree with an entry named `.`,
 * `..` or `.git`, an empty name, a `/` in a name or a name twice is refused, and so the whole fetch.
 */
const FSCK_CONFIG = ['-c', 'transfer.fsckObjects=true', '-c', 'fetch.fsckObjects=true'];

/** git's own words for the object its fsck refused ("object <oid>: hasDotdot: contains '..'"), or undefined. */
function fsckRefusal(message: string): string | undefined {
  if (!/fsck error|index-pack failed|unpack-objects failed/.test(message)) return undefined;
  const line = message.split('\n').find((l) => /^error: object [0-9a-f]+:/.test(l.trim()));
  return (line ?? firstLine(message)).trim().replace(/^error: /, '');
}

/** Temp packs of a stopped fetch: git would keep them until a gc. */
async function removeFetchLeftovers(objects: string): Promise<void> {
  const pack = path.join(objects, 'pack');
  for (const f of await fsp.readdir(pack).catch(() => [] as string[])) {
    if (f.startsWith('tmp_')) await fsp.rm(path.join(pack, f), { force: true });
  }
  for (const f of await fsp.readdir(objects).catch(() => [] as string[])) {
    if (f.startsWith('incoming-')) await fsp.rm(path.join(objects, f), { recursive: true, force: true });
  }
}

/** Why the remote cannot be read, or undefined when it can (so a fetch failure is our clone's fault). */
async function probeRemote(url: string, branch: string, cwd: string, timeoutMs?: number): Promise<{ code: 'E_SYNC_UNREACHABLE' | 'E_SYNC_NO_BRANCH'; detail: string } | undefined> {
  try {
    const out = await gitNetwork(cwd, ['ls-remote', '--heads', url, `refs/heads/${branch}`], timeoutMs !== undefined ? { timeoutMs } : {});
    if (out.trim() === '') return { code: 'E_SYNC_NO_BRANCH', detail: '' };
    return undefined;
  } catch (err) {
    return { code: 'E_SYNC_UNREACHABLE', detail: firstLine(messageOf(err)) };
  }
}

function firstLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? s;
}

/**
 * Brings the private clone to the remote branch's head and returns that commit. Repairs a missing, corrupt
 * or re-pointed clone by making it anew (and says so); an unreachable remote or missing branch is an error
 * that changes nothing installed.
 */
export async function syncRepository(opts: SyncOptions): Promise<SyncResult> {
  const { repoDir, url, branch, logger } = opts;
  const maxBytes = opts.maxFetchBytes ?? DEFAULTS.maxFetchBytes;
  let recloned = false;
  if (!(isUsableCloneNow(repoDir, url) ?? (await isUsableCloneByGit(repoDir, url)))) {
    const existed = await fsp.stat(repoDir).then(() => true, () => false);
    if (existed) logger.warn({ repoDir }, 'local clone is unusable or points to another remote; making it anew');
    await createClone(repoDir, url);
    recloned = true;
  }
  try {
    await fetchBranch(repoDir, url, branch, maxBytes, logger, opts.timeoutMs);
  } catch (err) {
    if (err instanceof UpdatesError) throw err;
    if (err instanceof GitTimeoutError) throw new UpdatesError('E_SYNC_UNREACHABLE', { url, branch, detail: err.message });
    const problem = await probeRemote(url, branch, path.dirname(repoDir), opts.timeoutMs);
    if (problem !== undefined) throw new UpdatesError(problem.code, { url, branch, detail: problem.detail });
    logger.warn({ err: firstLine(messageOf(err)) }, 'fetch into the local clone failed though the remote answers; making the clone anew');
    await createClone(repoDir, url);
    recloned = true;
    try {
      await fetchBranch(repoDir, url, branch, maxBytes, logger, opts.timeoutMs);
    } catch (err2) {
      if (err2 instanceof UpdatesError) throw err2;
      throw new UpdatesError('E_SYNC_UNREACHABLE', { url, branch, detail: firstLine(messageOf(err2)) });
    }
  }
  return { commit: await fetchedCommit(repoDir, branch, opts.reader), recloned };
}

/** The commit the fetched branch's tracking ref names (through `reader` when given, else one `git rev-parse`). */
async function fetchedCommit(repoDir: string, branch: string, reader: ObjectReader | undefined): Promise<string> {
  const missing = (): Error => new Error(`${trackingRef(branch)} is missing from the clone after the fetch`);
  // The branch name passed check-ref-format (settings.ts): no space or newline can end the request line early.
  const name = `${trackingRef(branch)}^{commit}`;
  if (reader !== undefined) {
    const head = (await reader.read([name]).catch(() => { throw missing(); })).get(name);
    if (head?.type !== 'commit' || !/^[0-9a-f]{40,64}$/.test(head.oid)) throw missing();
    return head.oid;
  }
  const head = await gitOut(repoDir, ['rev-parse', '--verify', '--end-of-options', name]);
  if (head.code !== 0) throw missing();
  return head.stdout.trim();
}

/** True when `ancestor` is `descendant` or one of its ancestors; false also when either is unknown. */
export function isAncestor(repoDir: string, ancestor: string, descendant: string): Promise<boolean> {
  // Judged by exit status (0 yes, 1 no, other: unknown object), which simple-git's raw() does not expose.
  return new Promise((resolve) => {
    execFile('git', ['merge-base', '--is-ancestor', ancestor, descendant], { cwd: repoDir, env: GIT_ENV }, (err) => resolve(err === null));
  });
}

/** Where objects are read from: a repository (one cat-file process per read) or an open ObjectReader. */
export type ObjectSource = string | ObjectReader;

/** A git object as `git cat-file --batch` gives it; `oid`, its id as cat-file printed it (what a name such as `ref^{commit}` resolved to). */
export interface GitObject { oid: string; type: string; size: number; data: Buffer }

/**
 * Reads many objects in one `git cat-file --batch` process (`--batch-check`: type and size only, no data);
 * returns oid → object. Objects are read exactly as stored (binary-safe). A missing object is an error.
 */
export function readObjects(repo: ObjectSource, oids: readonly string[], headersOnly = false): Promise<Map<string, GitObject>> {
  if (typeof repo !== 'string') return repo.read(oids, headersOnly);
  const repoDir = repo;
  const unique = [...new Set(oids)];
  if (unique.length === 0) return Promise.resolve(new Map<string, GitObject>());
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', headersOnly ? '--batch-check' : '--batch'], { cwd: repoDir, env: GIT_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`git cat-file failed: ${stderr.trim()}`));
      try {
        resolve(parseBatch(Buffer.concat(chunks), unique, headersOnly));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    child.stdin.end(`${unique.join('\n')}\n`);
  });
}

/** Reads many blobs in one `git cat-file --batch` process; returns oid → content. */
export async function readBlobs(repo: ObjectSource, oids: readonly string[]): Promise<Map<string, Buffer>> {
  const objects = await readObjects(repo, oids);
  return new Map([...objects].map(([oid, o]) => [oid, o.data]));
}

function parseBatch(buf: Buffer, oids: readonly string[], headersOnly: boolean): Map<string, GitObject> {
  const out = new Map<string, GitObject>();
  let pos = 0;
  for (const oid of oids) {
    const nl = buf.indexOf(0x0a, pos);
    const header = buf.subarray(pos, nl).toString('utf8');
    const [printed = '', type, size] = header.split(' ');
    if (type === undefined || size === undefined) throw new Error(`git cat-file: object ${oid} is missing (${header})`);
    const start = nl + 1;
    if (headersOnly) {
      out.set(oid, { oid: printed, type, size: Number(size), data: Buffer.alloc(0) });
      pos = start;
      continue;
    }
    const end = start + Number(size);
    out.set(oid, { oid: printed, type, size: Number(size), data: buf.subarray(start, end) });
    pos = end + 1;
  }
  return out;
}
