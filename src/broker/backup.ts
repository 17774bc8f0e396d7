// state.backup / state.restore: copies of declared paths under the state folder, checksummed, staged then published.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UpdatesError } from '../core/errors.js';
import { fsyncPath, fsyncTree } from '../core/fs-atomic.js';
import type { BackupInfo } from '../sdk/protocol.js';
import { backupManifestSchema, infoOf, listIds, moduleBackupDir, newBackupId, readManifest } from './backup-manifest.js';
import type { BackupEntry, BackupManifest } from './backup-manifest.js';
import { applyOwnership, openChecked, writeAtomicChecked } from './fs-ops.js';
import { mkdirChecked, walkChecked } from './fs-tree.js';
import type { CheckedPath } from './paths.js';
import type { Policy } from './policy.js';

/** What backup and restore need from the broker. */
export interface BackupDeps {
  stateDir: string;
  module: string;
  keep: number;
  policy: Policy;
}

/** Copies one checked file into `dest`, hashing on the way, through the verified descriptor. */
async function copyOut(src: CheckedPath, dest: string): Promise<{ size: number; sha256: string }> {
  const fh = await openChecked(src, 'state.backup');
  const out = await fsp.open(dest, 'wx', 0o600);
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of fh.createReadStream({ autoClose: false }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      await out.write(chunk);
    }
  } finally {
    await out.close();
    await fh.close();
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * Backs up the checked roots into `backups/<module>/<label>/<id>/` (files/ mirrors the module's paths,
 * manifest.json lists each entry's size, mode, owner and sha256). Built in a staging folder, fsynced, then
 * renamed into place, so a backup is complete or absent. Symlinks and special files are skipped and pushed
 * to `skipped`. Keeps the newest `keep` backups of the label.
 */
export async function createBackup(deps: BackupDeps, label: string, roots: CheckedPath[], skipped: string[]): Promise<BackupInfo> {
  const labelDir = path.join(moduleBackupDir(deps.stateDir, deps.module), label);
  const now = new Date();
  const id = newBackupId(now);
  const stage = path.join(labelDir, `.staging-${id}`);
  await fsp.mkdir(path.join(stage, 'files'), { recursive: true, mode: 0o700 });
  try {
    const entries = new Map<string, BackupEntry>();
    for (const root of roots) {
      await walkChecked(root, 'state.backup', async (entry, st) => {
        const rel = entry.view.slice(1);
        if (entries.has(rel)) return;
        const dest = path.join(stage, 'files', rel);
        const base = { path: rel, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
        if (st.isDirectory()) {
          await fsp.mkdir(dest, { recursive: true, mode: 0o700 });
          entries.set(rel, { ...base, type: 'directory', size: 0 });
        } else {
          await fsp.mkdir(path.dirname(dest), { recursive: true, mode: 0o700 });
          entries.set(rel, { ...base, type: 'file', ...(await copyOut(entry, dest)) });
        }
      }, skipped);
    }
    const manifest: BackupManifest = { version: 1, module: deps.module, label, id, createdAt: now.toISOString(), entries: [...entries.values()] };
    await fsp.writeFile(path.join(stage, 'manifest.json'), `${JSON.stringify(backupManifestSchema.parse(manifest), null, 2)}\n`, { mode: 0o600 });
    await fsyncTree(stage);
    await fsp.rename(stage, path.join(labelDir, id));
    await fsyncPath(labelDir);
    await prune(labelDir, deps.keep);
    return infoOf(manifest);
  } catch (err) {
    await fsp.rm(stage, { recursive: true, force: true });
    throw err;
  }
}

/** Removes all but the newest `keep` backups of a label. */
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
 * Restores the newest backup of `label`. Order matters: every stored file is verified against the manifest,
 * then every path is re-checked against the module's current "backup" grants, and only then is anything
 * written (folders first, then files, each atomically with its recorded mode and owner). Paths present now
 * but absent from the backup are left alone.
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
  for (const e of manifest.entries) checked.set(e, await deps.policy.checkPath(method, `/${e.path}`, 'backup'));
  const dirs = manifest.entries.filter((e) => e.type === 'directory').sort((a, b) => a.path.split('/').length - b.path.split('/').length);
  for (const e of dirs) {
    const target = checked.get(e) as CheckedPath;
    await mkdirChecked(target, e.mode, method);
    await applyOwnership(target, { uid: e.uid, gid: e.gid, mode: e.mode }, method);
  }
  for (const e of files) {
    const data = await readVerified(dir, label, e); // read again: nothing is held in memory across the whole set
    await writeAtomicChecked(checked.get(e) as CheckedPath, data, { mode: e.mode, uid: e.uid, gid: e.gid }, method);
  }
  return { label, id, files: files.length };
}
