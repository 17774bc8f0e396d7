// The path side of the policy: normalizes a module's path, finds its grant, and issues a CheckedPath. No file access:
// where the path really leads is found by the descriptor walk (fd-walk.ts) when the broker acts.
import path from 'node:path';
import { UpdatesError } from '../core/errors.js';
import type { PathGrant } from '../core/manifest.js';

declare const brand: unique symbol;

/** The orchestrator's own files: real paths, and the device/inode of each, that no grant ever reaches. */
export interface OwnFiles {
  readonly paths: readonly string[];
  /** `${dev}:${ino}` of each own path that exists (catches another name for the same file or folder). */
  readonly inodes: ReadonlySet<string>;
}

/**
 * A path the policy allowed. Only this file makes them (and records each one, so a cast does not forge one);
 * only the descriptor walk accepts them.
 */
export interface CheckedPath {
  readonly [brand]: true;
  /** The path as the module wrote it (normalized): the only form that appears in replies and audits. */
  readonly view: string;
  /** The grant that allowed the access; its path is normalized. */
  readonly grant: PathGrant;
  /** The --root mapping ('/' for none). */
  readonly root: string;
  /** Components from the grant root down to the target ([] for the grant root itself). */
  readonly below: readonly string[];
  readonly own: OwnFiles;
}

const issued = new WeakSet<object>();

/** True only for objects this checker issued. */
export function isChecked(p: unknown): p is CheckedPath {
  return typeof p === 'object' && p !== null && issued.has(p);
}

/** Issues the CheckedPath of `view` under `grant` (the policy has already matched them). */
export function issue(view: string, grant: PathGrant, root: string, own: OwnFiles): CheckedPath {
  const rel = view === grant.path ? '' : view.slice(grant.path === '/' ? 1 : grant.path.length + 1);
  const below = Object.freeze(rel === '' ? [] : rel.split('/'));
  const checked = Object.freeze({ view, grant, root, below, own }) as unknown as CheckedPath;
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
