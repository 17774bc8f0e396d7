// The on-disk form of a module backup: its folder layout, its manifest schema, ids, labels and listing.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UpdatesError } from '../core/errors.js';
import { BACKUP_LABEL_RE as LABEL_RE } from '../sdk/protocol.js';
import type { BackupInfo } from '../sdk/protocol.js';
import { sysCode } from './wire.js';

const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.includes('\0') && !p.split('/').some((s) => s === '..' || s === '.' || s === ''), 'unsafe path');

const entrySchema = z.strictObject({
  /** The original path as the module sees it, without the leading "/": also where the copy lies under files/. */
  path: relPath,
  type: z.enum(['file', 'directory']),
  size: z.number().int().min(0),
  mode: z.number().int().min(0).max(0o7777),
  uid: z.number().int().min(0),
  gid: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
});
export type BackupEntry = z.infer<typeof entrySchema>;

export const backupManifestSchema = z.strictObject({
  version: z.literal(1),
  module: z.string(),
  label: z.string().regex(LABEL_RE),
  id: z.string(),
  createdAt: z.string(),
  entries: z.array(entrySchema),
});
export type BackupManifest = z.infer<typeof backupManifestSchema>;

/** Refuses a label that could not safely be a folder name. */
export function checkLabel(method: string, label: string): void {
  if (!LABEL_RE.test(label)) {
    throw new UpdatesError('E_BAD_REQUEST', { method, detail: 'a backup label is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit' });
  }
}

/** `<stateDir>/backups/<module>`. */
export function moduleBackupDir(stateDir: string, module: string): string {
  return path.join(stateDir, 'backups', module);
}

let sequence = 0;

/** A new backup id: sortable by creation (time, then a per-process sequence), unique by a random tail. */
export function newBackupId(now: Date): string {
  sequence = (sequence + 1) % 1_000_000;
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${String(sequence).padStart(6, '0')}-${randomBytes(3).toString('hex')}`;
}

/** Ids of the published backups of a label, oldest first (staging folders start with "." and are ignored). */
export async function listIds(labelDir: string): Promise<string[]> {
  try {
    return (await fsp.readdir(labelDir)).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    if (sysCode(err) === 'ENOENT') return [];
    throw err;
  }
}

/** Reads and validates a backup's manifest; anything unreadable is E_BACKUP_CORRUPT. */
export async function readManifest(dir: string, label: string): Promise<BackupManifest> {
  try {
    const parsed = backupManifestSchema.safeParse(JSON.parse(await fsp.readFile(path.join(dir, 'manifest.json'), 'utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // unreadable or not JSON: reported below
  }
  throw new UpdatesError('E_BACKUP_CORRUPT', { label, detail: 'its manifest is missing or invalid' });
}

/** The summary a module sees. */
export function infoOf(m: BackupManifest): BackupInfo {
  const files = m.entries.filter((e) => e.type === 'file');
  return { label: m.label, id: m.id, createdAt: m.createdAt, files: files.length, bytes: files.reduce((n, e) => n + e.size, 0) };
}

/** Every backup of a module, by label then age. Unreadable backups are left out of the list. */
export async function listBackups(stateDir: string, module: string): Promise<BackupInfo[]> {
  const root = moduleBackupDir(stateDir, module);
  let labels: string[];
  try {
    labels = (await fsp.readdir(root)).filter((l) => LABEL_RE.test(l)).sort();
  } catch (err) {
    if (sysCode(err) === 'ENOENT') return [];
    throw err;
  }
  const out: BackupInfo[] = [];
  for (const label of labels) {
    for (const id of await listIds(path.join(root, label))) {
      const m = await readManifest(path.join(root, label, id), label).catch(() => undefined);
      if (m !== undefined) out.push(infoOf(m));
    }
  }
  return out;
}
