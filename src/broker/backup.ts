// state.backup / state.restore: copies of declared paths under the state folder, checksummed, staged then published,
// read and written through descriptor walks, bounded in bytes per backup and per module.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UpdatesError } from '../core/errors.js';
import { fsyncPath, fsyncTree } from '../core/fs-atomic.js';
import type { BackupInfo } from '../sdk/protocol.js';
import { backupManifestSchema, infoOf, listBackups, listIds, moduleBackupDir, nextBackupId, readManifest } from './backup-manifest.js';
import type { BackupEntry, BackupManifest } from './backup-manifest.js';
import { applyOwnership, mkdirPath, openAt, writeAt } from './fd-ops.js';
import type { Opened } from './fd-ops.js';
import { walkTree } from './fd-tree.js';
import { FdWalk } from './fd-walk.js';
import type { CheckedPath } from './paths.js';
import type { Policy } from './policy.js';

/** What backup and restore need from the broker. */
export interface BackupDeps {
  stateDir: string;
  module: string;
  keep: number;
  policy: Policy;
  /** Largest backup, bytes of file content. */
  maxBytes: number;
  /** Largest total of one module's kept backups, bytes. */
  totalBytes: number;
  /** Aborted when the module's run ends: a backup or restore in progress stops. */
  signal?: AbortSignal;
}

const CHUNK = 64 * 1024;

/** Bytes one backup may still take: its own cap, and what the module's other kept backups leave of the total. */
async function budgetOf(deps: BackupDeps, label: string): Promise<number> {
  const all = await listBackups(deps.stateDir, deps.module);
  const mine = all.filter((b) => b.label === label);
  // after this backup is published, the oldest of its label beyond `keep - 1` are pruned
  const pruned = new Set(mine.slice(0, Math.max(0, mine.length - (deps.keep - 1))).map((b) => b.id));
  const kept = all.filter((b) => !(b.label === label && pruned.has(b.id))).reduce((n, b) => n + b.bytes, 0);
  return Math.max(0, Math.min(deps.maxBytes, deps.totalBytes - kept));
}

function overBudget(deps: BackupDeps, view: string, budget: number): UpdatesError {
  return new UpdatesError('E_LIMIT', {
    method: 'state.backup',
    detail: `${view} does not fit: this backup may hold ${budget} more bytes (at most ${deps.maxBytes} per backup and ${deps.totalBytes} for all of this module's backups); nothing was kept`,
  });
}

/** Copies one opened file into `dest`, hashing on the way, within `budget` bytes; checks the run's end per chunk. */
async function copyOut(w: FdWalk, src: Opened, dest: string, budget: number, deps: BackupDeps): Promise<{ size: number; sha256: string }> {
  // the file's apparent size counts (a sparse file would be written out in full)
  if (src.st.size > budget) throw overBudget(deps, src.view, budget);
  const out = await fsp.open(dest, 'wx', 0o600);
  const hash = createHash('sha256');
  const buf = Buffer.alloc(CHUNK);
  let size = 0;
  try {
    for (;;) {
      w.checkRun();
      const { bytesRead } = await src.fh.read(buf, 0, CHUNK, size);
      if (bytesRead === 0) break;
      size += bytesRead;
      if (size > budget) throw overBudget(deps, src.view, budget);
      hash.update(buf.subarray(0, bytesRead));
      await out.write(buf, 0, bytesRead);
    }
  } finally {
    await out.close();
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * Backs up the checked roots into `backups/<module>/<label>/<id>/` (files/ mirrors the module's paths,
 * manifest.json lists each entry's size, mode, owner and sha256). Built in a staging folder, fsynced, then
 * renamed into place, so a backup is complete or absent. Symlinks, special files and hard-linked files are
 * skipped and pushed to `skipped`. Keeps the newest `keep` backups of the label, newest by sequence number.
 */
export async function createBackup(deps: BackupDeps, label: string, roots: CheckedPath[], skipped: string[]): Promise<BackupInfo> {
  const labelDir = path.join(moduleBackupDir(deps.stateDir, deps.module), label);
  let budget = await budgetOf(deps, label);
  const id = await nextBackupId(deps.stateDir, deps.module);
  const stage = path.join(labelDir, `.staging-${id}`);
  await fsp.mkdir(path.join(stage, 'files'), { recursive: true, mode: 0o700 });
  try {
    const entries = new Map<string, BackupEntry>();
    for (const root of roots) {
      await FdWalk.with(root, 'state.backup', deps.signal, async (w) => {
        await walkTree(w, await w.resolve({ follow: true }), async (o) => {
          const rel = o.view.slice(1);
          if (entries.has(rel)) return;
          const dest = path.join(stage, 'files', rel);
          const base = { path: rel, mode: o.st.mode & 0o7777, uid: o.st.uid, gid: o.st.gid };
          if (o.st.isDirectory()) {
            await fsp.mkdir(dest, { recursive: true, mode: 0o700 });
            entries.set(rel, { ...base, type: 'directory', size: 0 });
          } else {
            await fsp.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
            const copied = await copyOut(w, o, dest, budget, deps);
            budget -= copied.size;
            entries.set(rel, { ...base, type: 'file', ...copied });
          }
        }, skipped);
      });
    }
    const manifest: BackupManifest = { version: 1, module: deps.module, label, id, createdAt: new Date().toISOString(), entries: [...entries.values()] };
    await fsp.writeFile(path.join(stage, 'manifest.json'), `${JSON.stringify(backupManifestSchema.parse(manifest), null, 2)}\n`, { mode: 0o600 });
    await fsyncTree(stage);
    await fsp.rename(stage, path.join(labelDir, id));
    await fsyncPath(labelDir);
    await prune(labelDir, deps.keep);
    return infoOf(manifest);
  } catch (err) {
    await fsp.rm(stage, { recursive: true, force: true });
    await fsp.rmdir(labelDir).catch(() => undefined); // a label folder this refused backup made, now empty
    throw err;
  }
}

/** Removes all but the newest `keep` backups of a label (newest by sequence number). */
async function prune(labelDir: string, keep: number): Promise<void> {
  const ids = await listIds(labelDir);
  for (const old of ids.slice(0, Math.max(0, ids.length - keep))) await fsp.rm(path.join(labelDir, old), { recursive: true, force: true });
}

/** The stored copy of a file entry, checked against the manifest; E_BACKUP_CORRUPT on any difference. */
async function readVerified(dir: string, label: string, e: BackupEntry): Promise<Buffer> {
  const file = path.join(dir, 'files', e.path);
  const st = await fsp.lstat(file).catch(() => undefined);
  if (st === undefined || !st.isFile()) throw new UpdatesError('E_BACKUP_CORRUPT', { label, detail: `the copy of /${e.path} is missing` });
  const data = await fsp.readFile(file);
  if (data.length !== e.size || createHash('sha256').update(data).digest('hex') !== e.sha256) {
    throw new UpdatesError('E_BACKUP_CORRUPT', { label, detail: `the copy of /${e.path} does not match its checksum` });
  }
  return data;
}

/**
 * Restores the newest backup of `label` (by sequence number). Order matters: every stored file is verified against
 * the manifest, then every path is re-checked against the module's current "backup" grants, and only then is
 * anything written (folders first, then files, each atomically with its recorded mode and owner), each through its
 * own descriptor walk from the grant root. Paths present now but absent from the backup are left alone.
 */
export async function restoreBackup(deps: BackupDeps, label: string): Promise<{ label: string; id: string; files: number }> {
  const method = 'state.restore';
  const labelDir = path.join(moduleBackupDir(deps.stateDir, deps.module), label);
  const id = (await listIds(labelDir)).at(-1);
  if (id === undefined) throw new UpdatesError('E_BACKUP_NOT_FOUND', { label });
  const dir = path.join(labelDir, id);
  const manifest = await readManifest(dir, label);
  if (manifest.label !== label || manifest.module !== deps.module) {
    throw new UpdatesError('E_BACKUP_CORRUPT', { label, detail: 'its manifest names another module or label' });
  }
  const files = manifest.entries.filter((e) => e.type === 'file');
  for (const e of files) await readVerified(dir, label, e);
  const checked = new Map<BackupEntry, CheckedPath>();
  for (const e of manifest.entries) checked.set(e, deps.policy.checkPath(method, `/${e.path}`, 'backup'));
  const dirs = manifest.entries.filter((e) => e.type === 'directory').sort((a, b) => a.path.split('/').length - b.path.split('/').length);
  for (const e of dirs) {
    await FdWalk.with(checked.get(e) as CheckedPath, method, deps.signal, async (w) => {
      await mkdirPath(w, e.mode);
      const o = await openAt(w, await w.resolve({ follow: true }), { dir: true });
      try {
        await applyOwnership(o, { uid: e.uid, gid: e.gid, mode: e.mode });
      } finally {
        await o.fh.close();
      }
    });
  }
  for (const e of files) {
    const data = await readVerified(dir, label, e); // read again: nothing is held in memory across the whole set
    await FdWalk.with(checked.get(e) as CheckedPath, method, deps.signal, async (w) => {
      const target = await w.resolve({ follow: false });
      if (target.stat !== undefined && !target.stat.isFile() && !target.stat.isSymbolicLink()) {
        throw new UpdatesError('E_IO', { method, detail: `${target.view} is not a regular file; it was left as it is` });
      }
      await writeAt(w, target, data, { mode: e.mode, uid: e.uid, gid: e.gid });
    });
  }
  return { label, id, files: files.length };
}
