// Handlers of state.backup, state.restore and state.list.
import { checkLabel, listBackups } from '../backup-manifest.js';
import { createBackup, restoreBackup } from '../backup.js';
import type { BackupDeps } from '../backup.js';
import type { CheckedPath } from '../paths.js';
import type { Handler, HandlerContext } from './context.js';

function deps(ctx: HandlerContext): BackupDeps {
  return {
    stateDir: ctx.stateDir, module: ctx.module, keep: ctx.limits.backupsKept, policy: ctx.policy,
    maxBytes: ctx.limits.backupMaxBytes, totalBytes: ctx.limits.backupTotalBytes, signal: ctx.signal,
  };
}

/** state.backup: every path needs "backup" access; the label must be a safe folder name. */
export const backup: Handler<'state.backup'> = async (p, ctx) => {
  checkLabel('state.backup', p.label);
  const roots: CheckedPath[] = [];
  for (const path of p.paths) roots.push(ctx.policy.checkPath('state.backup', path, 'backup'));
  const skipped: string[] = [];
  const info = await createBackup(deps(ctx), p.label, roots, skipped);
  ctx.note({ id: info.id, files: info.files, ...(skipped.length > 0 ? { skippedSymlinks: skipped.slice(0, 100) } : {}) });
  return info;
};

/**
 * state.restore: the label is checked here; the paths are checked inside restoreBackup against the grants as
 * they are now (the manifest names them), after the copies verify and before anything is written.
 */
export const restore: Handler<'state.restore'> = async (p, ctx) => {
  checkLabel('state.restore', p.label);
  const res = await restoreBackup(deps(ctx), p.label);
  ctx.note({ id: res.id, files: res.files });
  return res;
};

/** state.list: the module's own backups only (identity from the channel). */
export const list: Handler<'state.list'> = async (_p, ctx) => ({ backups: await listBackups(ctx.stateDir, ctx.module) });
