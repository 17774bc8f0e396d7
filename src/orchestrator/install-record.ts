/**
 * The install record, `.updates/install.json`, written last into a staged version: its presence means the
 * folder is complete, and the size and SHA-256 of the files the run depends on (the manifest and the built
 * bundle) let every run verify a live version cheaply and re-install one that was damaged since.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod/mini';
import { errnoCode } from '../core/errno.js';
import { BUNDLE_FILE, INSTALL_RECORD } from './layout.js';

/** The files whose size and checksum the record keeps, relative to the version folder. */
export const CHECKED_FILES = ['index.json', BUNDLE_FILE] as const;

const digestSchema = z.object({ size: z.number().check(z.int(), z.nonnegative()), sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)) });
export type FileDigest = z.infer<typeof digestSchema>;

const recordSchema = z.object({
  module: z.string(),
  version: z.string(),
  commit: z.string(),
  tree: z.string(),
  installedAt: z.string(),
  /** Absent in records written before checksums were kept. */
  files: z.optional(z.record(z.string(), digestSchema)),
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

/**
 * The record of a staged version folder, with the digests of its checked files. `known`: checked files whose
 * bytes the caller holds (what it has just written), by their path relative to `dir` ("index.json"); those are
 * digested from memory, the others read.
 */
export async function makeRecord(dir: string, fields: Omit<InstallRecord, 'files'>, known: ReadonlyMap<string, Buffer> = new Map()): Promise<InstallRecord> {
  const files: Record<string, FileDigest> = {};
  for (const rel of CHECKED_FILES) {
    const key = rel.split(path.sep).join('/');
    const bytes = known.get(key);
    files[key] = bytes !== undefined ? { size: bytes.length, sha256: sha256(bytes) } : await digestOf(path.join(dir, rel));
  }
  return { ...fields, files };
}

/**
 * Why the version folder `dir` no longer holds what was installed (record missing or unreadable, a checked file
 * missing, of another size or checksum; sizes are compared first, so a truncated file costs one stat), and the git
 * tree it was installed from when its record is readable, with one read of the record. Synchronous: see
 * readInstalled for why. `known`: checked files the caller has already read,
 * by their path relative to `dir` ("index.json"); those bytes are what is checked, and they are not read again.
 */
export function checkVersionDirSync(dir: string, known: ReadonlyMap<string, Buffer> = new Map()): { damaged?: string; tree?: string } {
  let text: string;
  try {
    text = readFileSync(path.join(dir, INSTALL_RECORD), 'utf8');
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
  const damaged = verifyFiles(dir, record, known);
  return { ...(damaged !== undefined ? { damaged } : {}), tree: record.tree };
}

/** Files up to this size are hashed from one read; larger ones are streamed through the hash in chunks. */
const READ_WHOLE_BYTES = 8 * 2 ** 20;
const CHUNK_BYTES = 2 ** 20;

/** Why the checked files of `dir` differ from what `record` says was installed, or undefined. */
function verifyFiles(dir: string, record: InstallRecord, known: ReadonlyMap<string, Buffer>): string | undefined {
  // A record from before checksums were kept: only the bundle's presence can be checked.
  const expected: Record<string, FileDigest | undefined> = record.files ?? { [BUNDLE_FILE.split(path.sep).join('/')]: undefined };
  for (const [rel, want] of Object.entries(expected)) {
    const bytes = known.get(rel);
    const why = bytes !== undefined ? compare(rel, bytes.length, want, () => sha256(bytes)) : checkFile(path.join(dir, ...rel.split('/')), rel, want);
    if (why !== undefined) return why;
  }
  return undefined;
}

/** Reads one checked file through a single descriptor (stat, then its bytes) and compares it with `want`. */
function checkFile(file: string, rel: string, want: FileDigest | undefined): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return `${rel} is missing`;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return `${rel} is missing`;
    if (want === undefined) return undefined;
    return compare(rel, st.size, want, () => (st.size > READ_WHOLE_BYTES ? sha256Chunked(fd) : sha256(readFileSync(fd))));
  } finally {
    closeSync(fd);
  }
}

/** Sizes first, so a truncated file costs no hashing. */
function compare(rel: string, size: number, want: FileDigest | undefined, hash: () => string): string | undefined {
  if (want === undefined) return undefined;
  if (size !== want.size) return `${rel} has ${size} bytes where ${want.size} were installed`;
  if (hash() !== want.sha256) return `${rel} does not match its checksum from the install`;
  return undefined;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function sha256Chunked(fd: number): string {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) hash.update(buf.subarray(0, n));
  return hash.digest('hex');
}
