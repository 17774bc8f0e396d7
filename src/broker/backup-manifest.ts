// The on-disk form of a module backup: its folder layout, its manifest schema, ids, labels and listing.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as z from 'zod/mini';
import { UpdatesError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs-atomic.js';
import { BACKUP_LABEL_RE as LABEL_RE } from '../sdk/protocol.js';
import type { BackupInfo } from '../sdk/protocol.js';
import { errnoCode } from '../core/errno.js';

const relPath = z.string().check(
  z.minLength(1),
  z.refine((p) => !p.startsWith('/') && !p.includes('\0') && !p.split('/').some((s) => s === '..' || s === '.' || s === ''), 'unsafe path'),
);

const entrySchema = z.strictObject({
  /** The original path as the module sees it, without the leading "/": also where the copy lies under files/. */
  path: relPath,
  type: z.enum(['file', 'directory']),
  size: z.number().check(z.int(), z.minimum(0)),
  mode: z.number().check(z.int(), z.minimum(0), z.maximum(0o7777)),
  uid: z.number().check(z.int(), z.minimum(0)),
  gid: z.number().check(z.int(), z.minimum(0)),
  sha256: z.optional(z.string().check(z.regex(/^[0-9a-f]{64}$/))),
});
export type BackupEntry = z.infer<typeof entrySchema>;

export const backupManifestSchema = z.strictObject({
  version: z.literal(1),
  module: z.string(),
  label: z.string().check(z.regex(LABEL_RE)),
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

/** A backup id: `<sequence, 12 digits>-<random>`; the sequence orders backups, never the clock. */
const ID_RE = /^(\d{12})-[0-9a-f]{6}$/;

/** The sequence number of an id; 0 for ids of an older format (ordered before every numbered one). */
function sequenceOf(id: string): number {
  const m = ID_RE.exec(id);
  return m === null ? 0 : Number(m[1]);
}

/** The file that holds a module's last backup sequence number. */
const sequenceFile = (stateDir: string, module: string): string => path.join(moduleBackupDir(stateDir, module), '.sequence');

/**
 * The next backup id of a module: one more than both the persisted counter and any id on disk (so a lost counter
 * file cannot reuse a number), persisted atomically before use. A clock set back or ahead changes nothing.
 */
export function nextBackupId(stateDir: string, module: string): Promise<string> {
  const file = sequenceFile(stateDir, module);
  // one at a time per module, so two backups in flight never draw the same number
  const next = (pending.get(file) ?? Promise.resolve()).then(() => drawId(stateDir, module, file));
  pending.set(file, next.catch(() => undefined));
  return next;
}

const pending = new Map<string, Promise<unknown>>();

async function drawId(stateDir: string, module: string, file: string): Promise<string> {
  const stored = Number.parseInt(await fsp.readFile(file, 'utf8').catch(() => '0'), 10);
  let highest = Number.isSafeInteger(stored) && stored > 0 ? stored : 0;
  const root = moduleBackupDir(stateDir, module);
  for (const label of await fsp.readdir(root).catch(() => [] as string[])) {
    if (!LABEL_RE.test(label)) continue;
    for (const id of await listIds(path.join(root, label))) highest = Math.max(highest, sequenceOf(id));
  }
  const next = highest + 1;
  await fsp.mkdir(root, { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${next}\n`, 0o600);
  return `${String(next).padStart(12, '0')}-${randomBytes(3).toString('hex')}`;
}

/** Ids of the published backups of a label, oldest first by sequence (staging folders start with "." and are ignored). */
export async function listIds(labelDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await fsp.readdir(labelDir)).filter((n) => !n.startsWith('.'));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  return names.sort((a, b) => sequenceOf(a) - sequenceOf(b) || (a < b ? -1 : a > b ? 1 : 0));
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
    if (errnoCode(err) === 'ENOENT') return [];
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
