// The descriptor walk: every privileged file operation reaches its target from the grant root one component at a
// time, each folder opened relative to the open folder before it (through /proc/self/fd/<fd>/<name>, which the
// kernel resolves inside that very folder) with O_NOFOLLOW. The kernel never follows a symlink on the way: a
// symlink is read and resolved here, and only while it stays inside the grant. Operations then act on what was
// opened (fd-ops.ts, fd-tree.ts).
import { constants, promises as fsp } from 'node:fs';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { UpdatesError } from '../core/errors.js';
import { KERNEL_FILESYSTEMS } from '../core/protected-paths.js';
import { escapeError, isChecked, isInside } from './paths.js';
import type { CheckedPath } from './paths.js';
import { errnoCode } from '../core/errno.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = constants;
/** How every folder is opened: never through a final symlink, never blocking, never a controlling terminal. */
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
/** Most symlinks one resolution follows (the kernel's own limit). */
const MAX_LINKS = 40;
/** statfs magic numbers of kernel file systems (proc, sysfs, devpts, debugfs, securityfs, cgroup2, bpf, tracefs). */
const KERNEL_FS = new Set([0x9fa0, 0x62656572, 0x1cd1, 0x64626720, 0x73636673, 0x63677270, 0xcafe4a11, 0x74726163]);

/** The kernel's name of an open descriptor; with `name`, a path that resolves inside that very folder (openat-like). */
export function fdPath(fh: FileHandle, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fh.fd}` : `/proc/self/fd/${fh.fd}/${name}`;
}

/** An open folder reached by the walk. */
export interface Dir {
  readonly fh: FileHandle;
  readonly st: Stats;
  /** Its path as the module sees it. */
  readonly view: string;
  /** Its name in its parent folder. */
  readonly name: string;
}

/** Where a resolution ended: a name in an open, verified folder (the entry itself is not opened). */
export interface Entry {
  readonly parent: Dir;
  readonly name: string;
  readonly view: string;
  /** lstat of the entry when it was resolved; undefined when it does not exist. */
  readonly stat: Stats | undefined;
}

/** How a resolution treats the path. */
export interface ResolveOptions {
  /** Follow a final symlink (inside the grant only); false ends on the link itself (remove). */
  follow: boolean;
  /** Create missing folders on the way (mkdir -p). */
  create?: boolean;
  /** Whether the grant root itself may be the entry (false for remove). */
  allowRoot?: boolean;
}

/** lstat of `name` inside an open folder; undefined when it does not exist. */
export async function lstatAt(dir: Dir, name: string): Promise<Stats | undefined> {
  try {
    return await fsp.lstat(fdPath(dir.fh, name));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

const inodeOf = (st: Stats): string => `${st.dev}:${st.ino}`;

/** One operation's walk: the grant's anchor, every descriptor it opened (closed together), the run's end. */
export class FdWalk {
  private readonly handles = new Set<FileHandle>();
  private links = 0;
  private grantParent!: Dir;
  private grantName!: string;
  private grantDir: Dir | undefined;
  /** The grant root's real path, as the kernel names it. */
  realRoot!: string;

  private constructor(readonly target: CheckedPath, readonly method: string, private readonly signal: AbortSignal | undefined) {}

  /** Opens the grant: --root, then each folder above the grant root, each checked safe. */
  static async start(target: CheckedPath, method: string, signal?: AbortSignal): Promise<FdWalk> {
    if (!isChecked(target)) throw new UpdatesError('E_INTERNAL', { detail: 'unchecked path reached the fs layer' });
    const walk = new FdWalk(target, method, signal);
    try {
      await walk.anchor();
      return walk;
    } catch (err) {
      await walk.close();
      throw err;
    }
  }

  /** Runs `fn` with a started walk and always closes every descriptor it opened. */
  static async with<T>(target: CheckedPath, method: string, signal: AbortSignal | undefined, fn: (w: FdWalk) => Promise<T>): Promise<T> {
    const walk = await FdWalk.start(target, method, signal);
    try {
      return await fn(walk);
    } finally {
      await walk.close();
    }
  }

  /** An E_PATH_ESCAPE of this operation. */
  fail(detail: string): UpdatesError {
    return escapeError(this.method, this.target.view, this.target.grant.path, detail);
  }

  /** Throws E_RUN_ENDED once the module's run has ended: long operations stop between two steps. */
  checkRun(): void {
    if (this.signal?.aborted === true) throw new UpdatesError('E_RUN_ENDED', { method: this.method });
  }

  /** Opens folder `name` inside `parent` (or `hostPath` by path, for --root), never through a symlink. */
  async openDir(parent: Dir | undefined, name: string, view: string, hostPath?: string): Promise<Dir> {
    this.checkRun();
    let fh: FileHandle;
    try {
      fh = await fsp.open(parent === undefined ? (hostPath ?? '/') : fdPath(parent.fh, name), parent === undefined ? O_RDONLY | O_DIRECTORY : DIR_FLAGS);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ELOOP' || code === 'ENOTDIR') throw this.fail(`${view} was swapped for a symlink or a file during the operation`);
      if (code === 'ENOENT') throw new UpdatesError('E_NOT_FOUND', { method: this.method, path: this.target.view, detail: `${view} does not exist` });
      throw err;
    }
    this.handles.add(fh);
    const st = await fh.stat();
    const dir = { fh, st, view, name };
    if (parent === undefined || st.dev !== parent.st.dev) await this.checkFileSystem(dir);
    if (this.target.own.inodes.has(inodeOf(st))) throw this.fail("it reaches the orchestrator's own files, which no grant covers");
    return dir;
  }

  /** Closes a folder opened by openDir before the walk ends (tree walks, so descriptors do not pile up). */
  async closeDir(dir: Dir): Promise<void> {
    if (this.handles.delete(dir.fh)) await dir.fh.close();
  }

  /** Closes every descriptor of the walk. */
  async close(): Promise<void> {
    const all = [...this.handles];
    this.handles.clear();
    await Promise.all(all.map((fh) => fh.close().catch(() => undefined)));
  }

  /** A folder where a mount begins must not be a kernel file system. */
  private async checkFileSystem(dir: Dir): Promise<void> {
    const fs = await fsp.statfs(fdPath(dir.fh));
    if (KERNEL_FS.has(fs.type)) throw this.fail('it reaches a kernel file system (/proc, /sys, /dev), which no grant covers');
  }

  /**
   * Every folder above the grant root, --root included, must be owned by root and writable by nobody else:
   * otherwise a local user could swap what the grant reaches (ssh's StrictModes, systemd's unsafe path transition).
   */
  private checkAncestor(dir: Dir): void {
    const { uid, gid, mode } = dir.st;
    if (uid === 0 && (mode & 0o002) === 0 && ((mode & 0o020) === 0 || gid === 0)) return;
    const shown = `0${(mode & 0o7777).toString(8)}`;
    throw this.fail(`the folder ${dir.view} above the grant root can be changed by a user other than root (owner uid ${uid}, group gid ${gid}, mode ${shown}); make it owned by root and not group- or world-writable`);
  }

  private async anchor(): Promise<void> {
    const { grant, root } = this.target;
    const parts = grant.path.split('/').filter((p) => p !== '');
    const last = parts.pop();
    if (last === undefined) throw this.fail('"/" cannot be granted');
    let dir = await this.openDir(undefined, '', '/', root);
    this.checkAncestor(dir);
    let view = '';
    for (const part of parts) {
      view += `/${part}`;
      const st = await lstatAt(dir, part);
      if (st?.isSymbolicLink() === true) throw this.fail(`the folder ${view} above the grant root is a symlink`);
      dir = await this.openDir(dir, part, view);
      this.checkAncestor(dir);
    }
    this.grantParent = dir;
    this.grantName = last;
    const st = await lstatAt(dir, last);
    if (st?.isSymbolicLink() === true) throw this.fail(`the grant root ${grant.path} is a symlink; declare the folder it points to instead`);
    this.realRoot = path.join(await fsp.readlink(fdPath(dir.fh)), last);
    if (KERNEL_FILESYSTEMS.some((k) => isInside(this.realRoot, k))) throw this.fail('it reaches /proc, /sys or /dev, which no grant covers');
  }

  /** The grant root as an open folder (made when missing and `create`). */
  private async rootDir(create: boolean): Promise<Dir> {
    if (this.grantDir !== undefined) return this.grantDir;
    const view = this.target.grant.path;
    if ((await lstatAt(this.grantParent, this.grantName)) === undefined && create) await mkdirAt(this.grantParent, this.grantName);
    this.grantDir = await this.openDir(this.grantParent, this.grantName, view);
    return this.grantDir;
  }

  /**
   * Resolves the checked path to an entry. Symlinks are read here and followed only while they stay inside the
   * grant: an absolute target must name a path under the grant root, ".." never climbs above it.
   */
  async resolve(opts: ResolveOptions): Promise<Entry> {
    const queue = [...this.target.below];
    const stack: Dir[] = [];
    const top = async (): Promise<Dir> => stack.at(-1) ?? (await this.rootDir(opts.create === true));
    while (queue.length > 0) {
      this.checkRun();
      const part = queue.shift() as string;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (stack.length === 0) throw this.fail('a symlink on the way leads above the grant root');
        await this.closeDir(stack.pop() as Dir);
        continue;
      }
      const dir = await top();
      const view = path.posix.join(dir.view, part);
      const isLast = queue.every((p) => p === '' || p === '.');
      let st = await lstatAt(dir, part);
      if (isLast && (!opts.follow || st?.isSymbolicLink() !== true)) return this.finish({ parent: dir, name: part, view, stat: st }, opts);
      if (st === undefined) {
        if (opts.create !== true) throw new UpdatesError('E_NOT_FOUND', { method: this.method, path: this.target.view, detail: `${view} does not exist` });
        await mkdirAt(dir, part);
        st = await lstatAt(dir, part);
      }
      if (st?.isSymbolicLink() === true) {
        queue.unshift(...(await this.linkParts(dir, part, stack)));
        continue;
      }
      if (st?.isDirectory() !== true) throw new UpdatesError('E_IO', { method: this.method, detail: `${view}: a component is not a directory` });
      stack.push(await this.openDir(dir, part, view));
    }
    // The path ended on a folder already open (the grant root, or a folder a symlink led to).
    const here = stack.pop();
    if (here === undefined) {
      const stat = await lstatAt(this.grantParent, this.grantName);
      return this.finish({ parent: this.grantParent, name: this.grantName, view: this.target.grant.path, stat }, opts);
    }
    const parent = stack.at(-1) ?? (await top());
    return this.finish({ parent, name: here.name, view: here.view, stat: await lstatAt(parent, here.name) }, opts);
  }

  /** The components a symlink stands for; an absolute target restarts at the grant root (the stack is emptied). */
  private async linkParts(dir: Dir, name: string, stack: Dir[]): Promise<string[]> {
    if (++this.links > MAX_LINKS) throw this.fail('too many symlinks on the way');
    const target = await fsp.readlink(fdPath(dir.fh, name));
    if (!target.startsWith('/')) return target.split('/');
    const bases = [path.join(this.target.root, this.target.grant.path), this.realRoot];
    const base = bases.find((b) => isInside(target, b));
    if (base === undefined) throw this.fail('a symlink on the way points outside it');
    for (const d of stack.splice(0)) await this.closeDir(d);
    return target.slice(base.length).split('/');
  }

  /** Last checks on the entry: still inside the grant, not the grant root when refused, not a protected file. */
  private async finish(entry: Entry, opts: ResolveOptions): Promise<Entry> {
    const isRoot = entry.parent === this.grantParent && entry.name === this.grantName;
    if (isRoot && opts.allowRoot === false) throw this.fail('the grant root itself cannot be the target');
    const real = path.join(await fsp.readlink(fdPath(entry.parent.fh)), entry.name);
    if (!isInside(real, this.realRoot)) throw this.fail(`${entry.parent.view} was moved out of the grant during the operation`);
    const own = this.target.own;
    if (own.paths.some((f) => isInside(real, f) || isInside(f, real)) || (entry.stat !== undefined && own.inodes.has(inodeOf(entry.stat)))) {
      throw this.fail("it reaches the orchestrator's own files, which no grant covers");
    }
    return entry;
  }

  /**
   * Verifies, just before acting in `dir`, that it still lies under the grant root (a local user who owns a folder
   * on the way could have moved it out since it was opened). The grant root's own folder is root's and cannot move.
   */
  async checkInside(dir: Dir): Promise<void> {
    if (dir === this.grantParent) return;
    const real = await fsp.readlink(fdPath(dir.fh));
    if (!isInside(real, this.realRoot)) throw this.fail(`${dir.view} was moved out of the grant during the operation`);
  }

  /** Whether an opened entry is one of the orchestrator's own files (another name for one). */
  isOwn(st: Stats): boolean {
    return this.target.own.inodes.has(inodeOf(st));
  }
}

/** mkdir of `name` inside an open folder (0755; an existing entry is left for the caller to inspect). */
export async function mkdirAt(dir: Dir, name: string, mode = 0o755): Promise<boolean> {
  try {
    await fsp.mkdir(fdPath(dir.fh, name), mode);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
}
