/**
 * The install record, `.updates/install.json`, written last into a staged version: its presence means the
 * folder is complete, and the size and SHA-256 of the files the run depends on (the manifest and the built
 * bundle) let every run verify a live version cheaply and re-install one that was damaged since.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { errnoCode } from '../core/errno.js';
import { BUNDLE_FILE, INSTALL_RECORD } from './layout.js';

/** The files whose size and checksum the record keeps, relative to the version folder. */
export const CHECKED_FILES = ['index.json', BUNDLE_FILE] as const;

const digestSchema = z.object({ size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) });
export type FileDigest = z.infer<typeof digestSchema>;

const recordSchema = z.object({
  module: z.string(),
  version: z.string(),
  commit: z.string(),
  tree: z.string(),
  installedAt: z.string(),
  /** Absent in records written before checksums were kept. */
  files: z.record(z.string(), digestSchema).optional(),
});
export type InstallRecord = z.infer<typeof recordSchema>;

/** Size and SHA-256 of a file, read with one descriptor. */
export async function digestOf(file: string): Promise<FileDigest> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    const b = chunk as Buffer;
    size += b.length;
    hash.update(b);
  }
  return { size, sha256: hash.digest('hex') };
}

/** Files up to this size are hashed from one read (no stream): a run verifies every live module's files. */
const READ_WHOLE_BYTES = 8 * 2 ** 20;

/** SHA-256 (hex) of a file whose size is known to be `size`. */
async function sha256Of(file: string, size: number): Promise<string> {
  if (size > READ_WHOLE_BYTES) return (await digestOf(file)).sha256;
  return createHash('sha256').update(await fsp.readFile(file)).digest('hex');
}

/** The record of a staged version folder, with the digests of its checked files. */
export async function makeRecord(dir: string, fields: Omit<InstallRecord, 'files'>): Promise<InstallRecord> {
  const files: Record<string, FileDigest> = {};
  for (const rel of CHECKED_FILES) files[rel.split(path.sep).join('/')] = await digestOf(path.join(dir, rel));
  return { ...fields, files };
}

/** The git tree the version folder `dir` was installed from, or undefined when it has no readable record. */
export async function installedTree(dir: string): Promise<string | undefined> {
  try {
    const parsed = recordSchema.safeParse(JSON.parse(await fsp.readFile(path.join(dir, INSTALL_RECORD), 'utf8')));
    return parsed.success ? parsed.data.tree : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why the version folder `dir` no longer holds what was installed (record missing or unreadable, a checked
 * file missing, of another size or checksum), or undefined when it verifies. Sizes are compared first, so
 * a truncated file costs one stat.
 */
export async function verifyVersionDir(dir: string): Promise<string | undefined> {
  return (await checkVersionDir(dir)).damaged;
}

/**
 * verifyVersionDir's verdict (`damaged`), and the git tree the folder was installed from when its record is
 * readable (as installedTree() would read it), with one read of the record.
 */
export async function checkVersionDir(dir: string): Promise<{ damaged?: string; tree?: string }> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(dir, INSTALL_RECORD), 'utf8');
  } catch (err) {
    return { damaged: errnoCode(err) === 'ENOENT' ? `${INSTALL_RECORD} is missing` : `${INSTALL_RECORD} cannot be read (${errnoCode(err) ?? 'error'})` };
  }
  let record: InstallRecord;
  try {
    const parsed = recordSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return { damaged: `${INSTALL_RECORD} is damaged` };
    record = parsed.data;
  } catch {
    return { damaged: `${INSTALL_RECORD} is damaged` };
  }
  const damaged = await verifyFiles(dir, record);
  return { ...(damaged !== undefined ? { damaged } : {}), tree: record.tree };
}

/** Why the checked files of `dir` differ from what `record` says was installed, or undefined. */
async function verifyFiles(dir: string, record: InstallRecord): Promise<string | undefined> {
  // A record from before checksums were kept: only the bundle's presence can be checked.
  const expected: Record<string, FileDigest | undefined> = record.files ?? { [BUNDLE_FILE.split(path.sep).join('/')]: undefined };
  for (const [rel, want] of Object.entries(expected)) {
    const file = path.join(dir, ...rel.split('/'));
    const st = await fsp.stat(file).catch(() => undefined);
    if (st === undefined || !st.isFile()) return `${rel} is missing`;
    if (want === undefined) continue;
    if (st.size !== want.size) return `${rel} has ${st.size} bytes where ${want.size} were installed`;
    if ((await sha256Of(file, st.size)) !== want.sha256) return `${rel} does not match its checksum from the install`;
  }
  return undefined;
}
