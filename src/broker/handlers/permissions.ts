// Handler of permissions.set: the seed's PermissionTarget semantics (owner, group, mode, recursive, target_type).
import { UpdatesError } from '../../core/errors.js';
import type { PermissionTarget } from '../../sdk/protocol.js';
import { applyOwnership, checkKind, openAt } from '../fd-ops.js';
import type { Ownership } from '../fd-ops.js';
import { applyTree } from '../fd-tree.js';
import { FdWalk } from '../fd-walk.js';
import type { Entry } from '../fd-walk.js';
import type { CheckedPath } from '../paths.js';
import type { Handler, HandlerContext } from './context.js';

export const METHOD = 'permissions.set';

/** One target of a permissions.set request, checked by the policy: what it would set, and where. */
export interface Planned {
  target: CheckedPath;
  want: Ownership;
  recursive: boolean;
  type: 'file' | 'directory' | 'any';
}

/** The policy check of one target: chown access (and declared owner/group) for owner/group, chmod access for mode. */
export function plan(t: PermissionTarget, ctx: HandlerContext): Planned {
  if (t.owner === undefined && t.group === undefined && t.mode === undefined) {
    throw new UpdatesError('E_BAD_REQUEST', { method: METHOD, detail: `target ${t.path} sets none of owner, group or mode` });
  }
  const want: Ownership = {};
  let target: CheckedPath | undefined;
  if (t.owner !== undefined || t.group !== undefined) {
    target = ctx.policy.checkPath(METHOD, t.path, 'chown');
    if (t.owner !== undefined) want.uid = ctx.policy.checkPrincipal(METHOD, target, t.owner, 'owners');
    if (t.group !== undefined) want.gid = ctx.policy.checkPrincipal(METHOD, target, t.group, 'groups');
  }
  if (t.mode !== undefined) {
    const forMode = ctx.policy.checkPath(METHOD, t.path, 'chmod');
    want.mode = ctx.policy.checkMode(METHOD, forMode, t.mode);
    target ??= forMode;
  }
  return { target: target as CheckedPath, want, recursive: t.recursive ?? false, type: t.target_type ?? 'any' };
}

/** The target must exist and be of the declared type; checked for every target before any change. */
export async function resolveTarget(p: Planned, w: FdWalk): Promise<Entry> {
  const e = await w.resolve({ follow: true });
  const st = e.stat;
  if (st === undefined) throw new UpdatesError('E_NOT_FOUND', { method: METHOD, path: p.target.view, detail: 'no such file or directory' });
  const kind = st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other';
  if (kind === 'other') throw new UpdatesError('E_BAD_REQUEST', { method: METHOD, detail: `${p.target.view} is neither a file nor a directory` });
  if (p.type !== 'any' && p.type !== kind) {
    throw new UpdatesError('E_BAD_REQUEST', { method: METHOD, detail: `${p.target.view} is a ${kind}, but target_type is "${p.type}"` });
  }
  checkKind(w, e.view, st, { file: true, dir: true, single: true });
  return e;
}

/** Applies one planned target through its descriptors; a recursive walk skips symlinks, special files and hard links (reported). */
async function apply(p: Planned, w: FdWalk, e: Entry, skipped: string[]): Promise<number> {
  if (p.recursive && e.stat?.isDirectory() === true) return applyTree(w, e, p.want, skipped);
  const o = await openAt(w, e, { file: true, dir: true, single: true });
  try {
    return (await applyOwnership(o, p.want)) ? 1 : 0;
  } finally {
    await o.fh.close();
  }
}

/**
 * permissions.set: every target is checked (paths, owners, groups, modes, types) before anything changes,
 * so a denied target leaves the others untouched. `changed` counts entries whose owner, group or mode differed.
 */
export const setPermissions: Handler<'permissions.set'> = async (params, ctx) => {
  const planned: Planned[] = [];
  for (const t of params.targets) planned.push(plan(t, ctx));
  const walks: FdWalk[] = [];
  try {
    const entries: Entry[] = [];
    for (const p of planned) {
      const w = await FdWalk.start(p.target, METHOD, ctx.signal);
      walks.push(w);
      entries.push(await resolveTarget(p, w));
    }
    const skipped: string[] = [];
    let changed = 0;
    for (const [i, p] of planned.entries()) changed += await apply(p, walks[i] as FdWalk, entries[i] as Entry, skipped);
    ctx.note({ changed, ...(skipped.length > 0 ? { skippedSymlinks: skipped.slice(0, 100) } : {}) });
    if (skipped.length > 0) ctx.logger.warn({ skipped: skipped.slice(0, 100) }, 'permissions.set skipped symlinks, special files and hard links');
    return { changed };
  } finally {
    for (const w of walks) await w.close();
  }
};
