// Handler of permissions.set: the seed's PermissionTarget semantics (owner, group, mode, recursive, target_type).
import type { Stats } from 'node:fs';
import { UpdatesError } from '../../core/errors.js';
import type { PermissionTarget } from '../../sdk/protocol.js';
import { applyOwnership, lstatChecked } from '../fs-ops.js';
import type { Ownership } from '../fs-ops.js';
import { walkChecked } from '../fs-tree.js';
import type { CheckedPath } from '../paths.js';
import type { Handler, HandlerContext } from './context.js';

const METHOD = 'permissions.set';

interface Planned {
  target: CheckedPath;
  want: Ownership;
  recursive: boolean;
  type: 'file' | 'directory' | 'any';
}

/** The policy check of one target: chown access (and declared owner/group) for owner/group, chmod access for mode. */
async function plan(t: PermissionTarget, ctx: HandlerContext): Promise<Planned> {
  if (t.owner === undefined && t.group === undefined && t.mode === undefined) {
    throw new UpdatesError('E_BAD_REQUEST', { method: METHOD, detail: `target ${t.path} sets none of owner, group or mode` });
  }
  const want: Ownership = {};
  let target: CheckedPath | undefined;
  if (t.owner !== undefined || t.group !== undefined) {
    target = await ctx.policy.checkPath(METHOD, t.path, 'chown');
    if (t.owner !== undefined) want.uid = ctx.policy.checkPrincipal(METHOD, target, t.owner, 'owners');
    if (t.group !== undefined) want.gid = ctx.policy.checkPrincipal(METHOD, target, t.group, 'groups');
  }
  if (t.mode !== undefined) {
    const forMode = await ctx.policy.checkPath(METHOD, t.path, 'chmod');
    want.mode = ctx.policy.checkMode(METHOD, forMode, t.mode);
    target ??= forMode;
  }
  return { target: target as CheckedPath, want, recursive: t.recursive ?? false, type: t.target_type ?? 'any' };
}

/** The target must exist and be of the declared type; checked for every target before any change. */
async function checkType(p: Planned): Promise<Stats> {
  const st = await lstatChecked(p.target);
  if (st === undefined) throw new UpdatesError('E_NOT_FOUND', { method: METHOD, path: p.target.view, detail: 'no such file or directory' });
  const kind = st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other';
  if (kind === 'other') throw new UpdatesError('E_BAD_REQUEST', { method: METHOD, detail: `${p.target.view} is neither a file nor a directory` });
  if (p.type !== 'any' && p.type !== kind) {
    throw new UpdatesError('E_BAD_REQUEST', { method: METHOD, detail: `${p.target.view} is a ${kind}, but target_type is "${p.type}"` });
  }
  return st;
}

/** Applies one planned target; a recursive walk skips symlinks (reported) and stays inside the grant. */
async function apply(p: Planned, st: Stats, skipped: string[]): Promise<number> {
  if (!p.recursive || !st.isDirectory()) return (await applyOwnership(p.target, p.want, METHOD, st)) ? 1 : 0;
  let changed = 0;
  await walkChecked(p.target, METHOD, async (entry, est) => {
    if (await applyOwnership(entry, p.want, METHOD, est)) changed += 1;
  }, skipped);
  return changed;
}

/**
 * permissions.set: every target is checked (paths, owners, groups, modes, types) before anything changes,
 * so a denied target leaves the others untouched. `changed` counts entries whose owner, group or mode differed.
 */
export const setPermissions: Handler<'permissions.set'> = async (params, ctx) => {
  const planned: Planned[] = [];
  for (const t of params.targets) planned.push(await plan(t, ctx));
  const stats: Stats[] = [];
  for (const p of planned) stats.push(await checkType(p));
  const skipped: string[] = [];
  let changed = 0;
  for (const [i, p] of planned.entries()) changed += await apply(p, stats[i] as Stats, skipped);
  ctx.note({ changed, ...(skipped.length > 0 ? { skippedSymlinks: skipped.slice(0, 100) } : {}) });
  if (skipped.length > 0) ctx.logger.warn({ skipped: skipped.slice(0, 100) }, 'permissions.set skipped symlinks and special files');
  return { changed };
};
