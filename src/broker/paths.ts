// The path checker: maps a module's absolute path under --root, resolves symlinks, and issues CheckedPaths.
import { KERNEL_FILESYSTEMS } from '../core/protected-paths.js';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UpdatesError } from '../core/errors.js';
import type { PathGrant } from '../core/manifest.js';
import { sysCode } from './wire.js';

declare const brand: unique symbol;

/**
 * A path that passed the checker. Only this file makes them (and records each one, so a cast does not
 * forge one); only the fs layer (fs-ops.ts) accepts them. `host` is already symlink-resolved, so acting on
 * it with O_NOFOLLOW refuses any symlink swapped in after the check.
 */
export interface CheckedPath {
  readonly [brand]: true;
  /** The path as the module wrote it (normalized): the only form that appears in replies and audits. */
  readonly view: string;
  /** Real host path to act on. */
  readonly host: string;
  /** Real host path of the grant's root: every file descriptor acted through must lie under it. */
  readonly realRoot: string;
  /** The grant that allowed the access. */
  readonly grant: PathGrant;
}

const issued = new WeakSet<object>();

/** True only for objects this checker issued. */
export function isChecked(p: unknown): p is CheckedPath {
  return typeof p === 'object' && p !== null && issued.has(p);
}

function issue(view: string, host: string, realRoot: string, grant: PathGrant): CheckedPath {
  const checked = Object.freeze({ view, host, realRoot, grant }) as unknown as CheckedPath;
  issued.add(checked);
  return checked;
}

/** Thrown when a path leaves its grant; says so in the module's terms only. */
export function escapeError(method: string, view: string, root: string, detail: string): UpdatesError {
  return new UpdatesError('E_PATH_ESCAPE', { method, path: view, root, detail });
}

/** Normalizes a requested path: absolute, no NUL, no ".." segment; "." and "//" collapse, a trailing "/" goes. */
export function normalizeView(method: string, requested: string): string {
  if (!requested.startsWith('/') || requested.includes('\0')) {
    throw new UpdatesError('E_BAD_REQUEST', { method, detail: 'a path must be absolute and contain no NUL byte' });
  }
  if (requested.split('/').includes('..')) throw escapeError(method, requested, '/', '".." segments are not allowed');
  const normal = path.posix.normalize(requested);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** Whether `p` is `root` or below it (plain string test on normalized paths). */
export function isInside(p: string, root: string, allowEqual = true): boolean {
  if (p === root) return allowEqual;
  return p.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/** Maps a module path under the --root mapping. */
export function toHost(root: string, view: string): string {
  return path.join(root, view);
}

/**
 * realpath of the deepest existing ancestor, with the missing tail appended. A dangling symlink on the way
 * is refused: where it points is not ours to know, and creating through it could land anywhere.
 */
export async function realpathDeepest(p: string): Promise<string> {
  const tail: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return path.join(await fsp.realpath(cur), ...tail.reverse());
    } catch (err) {
      if (sysCode(err) !== 'ENOENT') throw err;
      if ((await fsp.lstat(cur).catch(() => undefined))?.isSymbolicLink() === true) {
        throw Object.assign(new Error('dangling symlink'), { code: 'EDANGLING' });
      }
      const parent = path.dirname(cur);
      if (parent === cur) throw err;
      tail.push(path.basename(cur));
      cur = parent;
    }
  }
}

/** Options of a path check. */
export interface CheckOptions {
  /** Follow a final-component symlink (read, write, chmod); false acts on the link itself (remove). */
  follow: boolean;
  /** Whether the grant root itself may be the target (false for remove). */
  allowRoot: boolean;
  /** Real paths no grant ever reaches, whatever it declares (kernel file systems, the orchestrator's own files). */
  forbidden?: readonly string[];
}


/** Resolves `view` under `grant` and the --root mapping; refuses any escape through symlinks. */
export async function checkUnder(method: string, view: string, grant: PathGrant, root: string, opts: CheckOptions): Promise<CheckedPath> {
  const host = toHost(root, view);
  try {
    const realRoot = await realpathDeepest(toHost(root, grant.path));
    const real = opts.follow
      ? await realpathDeepest(host)
      : path.join(await realpathDeepest(path.dirname(host)), path.basename(host));
    if (!isInside(real, realRoot, opts.allowRoot)) {
      const detail = real === realRoot ? 'the grant root itself cannot be the target' : 'a symlink on the way resolves outside it';
      throw escapeError(method, view, grant.path, detail);
    }
    const banned = [...KERNEL_FILESYSTEMS, ...(opts.forbidden ?? [])].find((f) => isInside(real, f) || isInside(f, real));
    if (banned !== undefined) {
      throw escapeError(method, view, grant.path, 'it reaches /proc, /sys, /dev or the orchestrator\'s own files, which no grant covers');
    }
    return issue(view, real, realRoot, grant);
  } catch (err) {
    if (sysCode(err) === 'EDANGLING') throw escapeError(method, view, grant.path, 'a dangling symlink is on the way');
    throw err;
  }
}

/** The checked path of a direct child entry, for tree walks; the entry is re-verified when opened. */
export function childOf(parent: CheckedPath, name: string): CheckedPath {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new UpdatesError('E_INTERNAL', { detail: 'invalid directory entry name' });
  }
  return issue(path.posix.join(parent.view, name), path.join(parent.host, name), parent.realRoot, parent.grant);
}

/**
 * Verifies that an open descriptor still lies under the grant's real root. The kernel's own name for the
 * descriptor (/proc/self/fd) covers every path component, so a directory swapped for a symlink between the
 * check and the open is caught here even though O_NOFOLLOW guards only the last component.
 */
export async function verifyFd(fd: number, checked: CheckedPath, method: string): Promise<void> {
  const actual = await fsp.readlink(`/proc/self/fd/${fd}`);
  if (!isInside(actual, checked.realRoot)) {
    throw escapeError(method, checked.view, checked.grant.path, 'the file was swapped for one outside it after the check');
  }
}

/** The checked parent folder of a checked path that lies strictly under its grant root. */
export function parentOf(checked: CheckedPath): CheckedPath {
  if (checked.host === checked.realRoot) throw new UpdatesError('E_INTERNAL', { detail: 'the grant root has no checked parent' });
  return issue(path.posix.dirname(checked.view), path.dirname(checked.host), checked.realRoot, checked.grant);
}
