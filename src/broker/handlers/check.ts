// Check mode's handlers: the same policy checks and limits as the real ones, in the same order, then a plan instead
// of an action. Reads go to the system (through the planned overlay, so a module reads back what it would have
// written); nothing on the system changes: no file, owner or mode, no command, no service, no backup, no store write.
import path from 'node:path';
import { UpdatesError } from '../../core/errors.js';
import { checkLabel, listBackups } from '../backup-manifest.js';
import { readAt } from '../fd-ops.js';
import { walkTree } from '../fd-tree.js';
import { FdWalk } from '../fd-walk.js';
import type { Entry } from '../fd-walk.js';
import { escapeError } from '../paths.js';
import type { CheckedPath } from '../paths.js';
import type { Planner } from '../planner.js';
import { formatMode } from '../policy.js';
import type { Method, Params, Results } from '../../sdk/protocol.js';
import type { Handler, HandlerContext } from './context.js';
import { checkExec } from './exec.js';
import { checkWrite, exists as realExists, isNotFound, readFile as realReadFile } from './fs.js';
import { METHOD as PERMISSIONS, plan, resolveTarget } from './permissions.js';
import type { Planned } from './permissions.js';

/** Check-mode handlers, by method; a method not here (log, clock, state.list, services.status) runs as usual. */
export type CheckHandler<M extends Method> = (params: Params<M>, ctx: HandlerContext, plan: Planner) => Promise<Results[M]>;
type CheckHandlers = { readonly [M in Method]?: CheckHandler<M> };

/** The entry a checked path names now, or undefined when it (or, when the plan creates it, a folder above it) is missing. */
async function current<T>(target: CheckedPath, method: string, ctx: HandlerContext, plan: Planner, fn: (w: FdWalk, e: Entry) => Promise<T>): Promise<T | undefined> {
  try {
    return await FdWalk.with(target, method, ctx.signal, async (w) => {
      const e = await w.resolve({ follow: true });
      return e.stat === undefined ? undefined : fn(w, e);
    });
  } catch (err) {
    // A folder the plan creates does not exist yet: the real run would have made it first.
    if (isNotFound(err) && plannedAbove(plan, target.view)) return undefined;
    throw err;
  }
}

function plannedAbove(plan: Planner, view: string): boolean {
  for (let d = path.posix.dirname(view); d !== '/'; d = path.posix.dirname(d)) if (plan.createdDir(d)) return true;
  return false;
}

/**
 * A file's content and mode now, as the real write would find it (a folder or special file is refused as there).
 * The content of a file with more than one name is not read (it may be a file outside the grant): undefined.
 */
async function fileNow(target: CheckedPath, method: string, ctx: HandlerContext, plan: Planner): Promise<{ content: string | undefined; mode: number } | undefined> {
  const planned = plan.file(target.view);
  if (planned !== undefined) return planned ?? undefined;
  return current(target, method, ctx, plan, async (w, e) => {
    const st = e.stat;
    if (st?.isFile() !== true) {
      const kind = st?.isDirectory() === true ? 'a directory' : 'a FIFO, socket or device';
      throw new UpdatesError('E_IO', { method, detail: `${e.view} is ${kind}` });
    }
    if (st.nlink > 1) return { content: undefined, mode: st.mode & 0o7777 };
    return { content: (await readAt(w, e, ctx.limits.maxFileBytes)).toString('utf8'), mode: st.mode & 0o7777 };
  });
}

/** fs.writeFile: would it create or change the file, and how (a diff with --diff). The module sees the planned content. */
const writeFile: CheckHandler<'fs.writeFile'> = async (p, ctx, plan) => {
  const { target, mode } = checkWrite(p, ctx);
  const old = await fileNow(target, 'fs.writeFile', ctx, plan);
  return { changed: plan.write('fs.writeFile', target.view, old, p.content, mode ?? old?.mode ?? 0o644) };
};

/** fs.readFile: the planned content when the module would have written the file, else the file as it is. */
const readFile: CheckHandler<'fs.readFile'> = async (p, ctx, plan) => {
  const target = ctx.policy.checkPath('fs.readFile', p.path, 'read');
  const planned = plan.file(target.view);
  if (planned === null) throw new UpdatesError('E_NOT_FOUND', { method: 'fs.readFile', path: target.view, detail: 'removed earlier in this check run' });
  if (planned !== undefined) return { content: planned.content };
  return realReadFile(p, ctx);
};

/** fs.exists: as the plan leaves it. */
const exists: CheckHandler<'fs.exists'> = async (p, ctx, plan) => {
  const target = ctx.policy.checkPath('fs.exists', p.path, 'read');
  const planned = plan.file(target.view);
  if (planned !== undefined) return { exists: planned !== null };
  if (plan.createdDir(target.view)) return { exists: true };
  return realExists(p, ctx);
};

/** fs.mkdir: would it create the folder. */
const mkdir: CheckHandler<'fs.mkdir'> = async (p, ctx, plan) => {
  const target = ctx.policy.checkPath('fs.mkdir', p.path, 'write');
  const mode = p.mode === undefined ? undefined : ctx.policy.checkMode('fs.mkdir', target, p.mode);
  if (plan.createdDir(target.view)) return { created: false };
  let kind: 'dir' | 'other' | undefined;
  try {
    kind = await current(target, 'fs.mkdir', ctx, plan, async (_w, e) => (e.stat?.isDirectory() === true ? 'dir' : 'other'));
  } catch (err) {
    // mkdir -p: missing folders on the way would be created too
    if (!isNotFound(err)) throw err;
  }
  if (kind === 'other') throw new UpdatesError('E_IO', { method: 'fs.mkdir', detail: `${target.view} exists and is not a folder` });
  if (kind === 'dir' && plan.file(target.view) !== null) return { created: false };
  plan.mkdir(target.view, mode);
  return { created: true };
};

/** fs.remove: would it remove something, and what (the removed file's content as a diff with --diff). */
const remove: CheckHandler<'fs.remove'> = async (p, ctx, plan) => {
  const target = ctx.policy.checkPath('fs.remove', p.path, 'write');
  if (target.view === target.grant.path) throw escapeError('fs.remove', target.view, target.grant.path, 'the grant root itself cannot be the target');
  const planned = plan.file(target.view);
  if (planned === null) return { removed: false };
  if (planned !== undefined || plan.createdDir(target.view)) {
    plan.remove(target.view, planned !== undefined ? 'file' : 'folder', undefined);
    return { removed: true };
  }
  let found: { what: 'file' | 'folder' | 'symlink'; content?: string } | undefined;
  try {
    found = await FdWalk.with(target, 'fs.remove', ctx.signal, async (w) => {
      const e = await w.resolve({ follow: false, allowRoot: false });
      const st = e.stat;
      if (st === undefined) return undefined;
      if (st.isSymbolicLink()) return { what: 'symlink' as const };
      if (st.isDirectory()) return { what: 'folder' as const };
      const small = st.isFile() && st.nlink === 1 && st.size <= ctx.limits.maxFileBytes;
      return { what: 'file' as const, ...(small && plan.diffs ? { content: (await readAt(w, e, ctx.limits.maxFileBytes)).toString('utf8') } : {}) };
    });
  } catch (err) {
    if (isNotFound(err)) return { removed: false };
    throw err;
  }
  if (found === undefined) return { removed: false };
  plan.remove(target.view, found.what, found.content);
  return { removed: true };
};

/** Owner, group and mode of an entry as the plan leaves it; undefined for one the plan creates (owner unknown until then). */
interface Attrs { uid?: number; gid?: number; mode: number; dir: boolean }

/** What one permissions target would change on `now`: "owner 0 → 33", "mode 0644 → 0600"; empty when nothing. */
function attrChanges(p: Planned, now: Attrs): string[] {
  const parts: string[] = [];
  if (p.want.uid !== undefined && p.want.uid !== now.uid) parts.push(`owner ${now.uid ?? '(new)'} → ${p.want.uid}`);
  if (p.want.gid !== undefined && p.want.gid !== now.gid) parts.push(`group ${now.gid ?? '(new)'} → ${p.want.gid}`);
  if (p.want.mode !== undefined && p.want.mode !== now.mode) parts.push(`mode ${formatMode(now.mode)} → ${formatMode(p.want.mode)}`);
  return parts;
}

function permissionChange(p: Planned, now: Attrs): string {
  const parts = attrChanges(p, now);
  return parts.length === 0 ? 'unchanged' : `would set ${parts.join(', ')}`;
}

/**
 * A recursive target on a folder: the same walk as the real call (symlinks, special files and hard links are not
 * visited), reading each entry's owner and mode instead of setting them.
 */
async function treeChange(p: Planned, w: FdWalk, top: Entry): Promise<string> {
  let entries = 0;
  let differ = 0;
  const skipped: string[] = [];
  const what = new Set<string>();
  await walkTree(w, top, async (o) => {
    entries += 1;
    const parts = attrChanges(p, { uid: o.st.uid, gid: o.st.gid, mode: o.st.mode & 0o7777, dir: o.st.isDirectory() });
    if (parts.length > 0) differ += 1;
    for (const part of parts) what.add(part.split(' ')[0] as string);
  }, skipped);
  const skip = skipped.length > 0 ? `; ${skipped.length} symlink(s), special file(s) or hard link(s) would be skipped` : '';
  if (differ === 0) return skip === '' ? 'unchanged' : `unchanged${skip}`;
  const set = [p.want.uid !== undefined && what.has('owner') ? `owner ${p.want.uid}` : '', p.want.gid !== undefined && what.has('group') ? `group ${p.want.gid}` : '',
    p.want.mode !== undefined && what.has('mode') ? `mode ${formatMode(p.want.mode)}` : ''].filter((x) => x !== '');
  return `would set ${set.join(', ')} on ${differ} of ${entries} entries${skip}`;
}

/**
 * permissions.set: every target checked as the real call checks it (paths, owners, groups, modes, existence and
 * type), then the chown/chmod each would make is reported, against the entry as the plan leaves it (a file the
 * plan writes has the planned mode). `changed` counts the targets that would change.
 */
const setPermissions: CheckHandler<'permissions.set'> = async (params, ctx, planner) => {
  const planned = params.targets.map((t) => plan(t, ctx));
  const found: (Attrs | undefined)[] = [];
  const trees = new Map<number, string>();
  for (const [i, p] of planned.entries()) {
    const file = planner.file(p.target.view);
    if (file === null) throw new UpdatesError('E_NOT_FOUND', { method: PERMISSIONS, path: p.target.view, detail: 'removed earlier in this check run' });
    // One walk per target: its kind and type checked as the real call checks them, a folder's tree read in it.
    const onDisk = await current(p.target, PERMISSIONS, ctx, planner, async (w) => {
      const e = await resolveTarget(p, w);
      const st = e.stat;
      if (st === undefined) return undefined;
      if (file === undefined && p.recursive && st.isDirectory()) trees.set(i, await treeChange(p, w, e));
      return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777, dir: st.isDirectory() };
    });
    if (file !== undefined) found.push({ ...(onDisk ?? {}), mode: file.mode, dir: false });
    else if (onDisk !== undefined) found.push(onDisk);
    else if (planner.createdDir(p.target.view)) found.push({ mode: 0o755, dir: true });
    else throw new UpdatesError('E_NOT_FOUND', { method: PERMISSIONS, path: p.target.view, detail: 'no such file or directory' });
  }
  let changed = 0;
  for (const [i, p] of planned.entries()) {
    const summary = trees.get(i) ?? permissionChange(p, found[i] as Attrs);
    if (!summary.startsWith('unchanged')) changed += 1;
    if (p.want.mode !== undefined) planner.chmod(p.target.view, p.want.mode);
    planner.note(PERMISSIONS, p.target.view, summary);
  }
  return { changed };
};

/** exec: the command is checked, not run; its result says so. */
const exec: CheckHandler<'exec'> = async (p, ctx, plan) => {
  const inputBytes = checkExec(p, ctx);
  plan.note('exec', p.argv.join(' '), `would run${p.input !== undefined ? ` with ${inputBytes} bytes of input` : ''}`);
  return { exitCode: 0, stdout: '', stderr: '', timedOut: false, planned: true };
};

/** services.restart / services.reload: checked and planned; the service is not touched. */
function serviceAction(verb: 'restart' | 'reload') {
  return async (p: { name: string }, ctx: HandlerContext, plan: Planner): Promise<Results['services.restart']> => {
    ctx.policy.checkService(`services.${verb}`, p.name);
    plan.note(`services.${verb}`, p.name, `would ${verb}`);
    return { name: p.name, active: true, state: 'planned', planned: true };
  };
}

/** state.backup: every path checked; no backup is made. */
const backup: CheckHandler<'state.backup'> = async (p, ctx, plan) => {
  checkLabel('state.backup', p.label);
  const views = p.paths.map((v) => ctx.policy.checkPath('state.backup', v, 'backup').view);
  plan.note('state.backup', p.label, `would back up ${views.join(', ')}`);
  return { label: p.label, id: 'planned', createdAt: new Date().toISOString(), files: 0, bytes: 0, planned: true };
};

/** state.restore: the newest backup of the label must exist; nothing is written back. */
const restore: CheckHandler<'state.restore'> = async (p, ctx, plan) => {
  checkLabel('state.restore', p.label);
  const newest = (await listBackups(ctx.stateDir, ctx.module)).filter((b) => b.label === p.label).at(-1);
  if (newest === undefined) throw new UpdatesError('E_BACKUP_NOT_FOUND', { label: p.label });
  plan.note('state.restore', p.label, `would restore backup ${newest.id} (${newest.files} files)`);
  return { label: p.label, id: newest.id, files: newest.files, planned: true };
};

/** store.get / store.keys: as the plan leaves the store. */
const storeGet: CheckHandler<'store.get'> = async (p, ctx, plan) => {
  const planned = plan.storeValue(p.key);
  if (planned === undefined) return { value: await ctx.store.get(p.key) };
  return { value: 'deleted' in planned ? undefined : planned.value };
};
const storeKeys: CheckHandler<'store.keys'> = async (_p, ctx, plan) => ({ keys: plan.storeKeys(await ctx.store.keys()) });

/** store.set: planned; a value that alone is over the store's size cap is refused, as the real write would refuse it. */
const storeSet: CheckHandler<'store.set'> = async (p, ctx, plan) => {
  const old = await storeGet({ key: p.key }, ctx, plan);
  const size = Buffer.byteLength(JSON.stringify(p.value));
  if (size > ctx.limits.storeMaxBytes) {
    throw new UpdatesError('E_LIMIT', { method: 'store.set', detail: `the value is ${size} bytes, more than the store's limit of ${ctx.limits.storeMaxBytes}` });
  }
  plan.store(p.key, old.value, { value: p.value }, ctx.limits.storeMaxBytes);
  return null;
};

const storeDelete: CheckHandler<'store.delete'> = async (p, ctx, plan) => {
  const old = await storeGet({ key: p.key }, ctx, plan);
  if (old.value === undefined) return { deleted: false };
  plan.store(p.key, old.value, 'delete', ctx.limits.storeMaxBytes);
  return { deleted: true };
};

/** Every method that would change something, planned instead. */
export const CHECK_HANDLERS: CheckHandlers = Object.freeze({
  'fs.writeFile': writeFile,
  'fs.readFile': readFile,
  'fs.exists': exists,
  'fs.mkdir': mkdir,
  'fs.remove': remove,
  'permissions.set': setPermissions,
  'exec': exec,
  'services.restart': serviceAction('restart'),
  'services.reload': serviceAction('reload'),
  'state.backup': backup,
  'state.restore': restore,
  'store.get': storeGet,
  'store.keys': storeKeys,
  'store.set': storeSet,
  'store.delete': storeDelete,
});

/** The check-mode handler of `method`, if it has one. */
export function checkHandler<M extends Method>(method: M): Handler<M> | undefined {
  const h = CHECK_HANDLERS[method];
  if (h === undefined) return undefined;
  return (params, ctx) => {
    if (ctx.plan === undefined) throw new UpdatesError('E_INTERNAL', { detail: 'a check handler ran without a plan' });
    return h(params, ctx, ctx.plan);
  };
}
