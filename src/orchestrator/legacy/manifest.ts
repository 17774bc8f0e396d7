/**
 * The seed's legacy manifest.json (at the install root): its zod schema, reading it, and rewriting fields of its
 * entries atomically while every other field stays exactly as it was.
 *
 * The schema is strict where it matters for safety (names become path components, checksums gate code) and as
 * lenient as the seed's own files are elsewhere: the seed's entrypoint entry has `null` for its checksum,
 * version, lastSafeVersion and description.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as semver from '../../core/semver.js';
import * as z from 'zod/mini';
import '../../core/zod-messages.js';
import { UpdatesError, messageOf } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/fs-atomic.js';
import { MODULE_NAME_RE, deepFreeze } from '../../core/manifest.js';
import { errnoCode } from '../../core/errno.js';

/** The file name, at the install root. */
export const LEGACY_MANIFEST = 'manifest.json';

/** "sha256:" and 64 lower-case hex digits, as the checksum of a module folder is written. */
export const CHECKSUM_RE = /^sha256:[0-9a-f]{64}$/;

const moduleName = z.string().check(z.regex(MODULE_NAME_RE, 'must be lower-case letters, digits, ".", "_" or "-" (at most 64)'));
const semverOrNull = z.optional(
  z.nullable(z.string().check(z.refine((v) => semver.valid(v) !== null, { error: (i) => `${JSON.stringify(i.input)} is not a semantic version (expected e.g. "1.2.0")` }))),
);

export const legacyEntrySchema = z.looseObject({
  name: moduleName,
  version: semverOrNull,
  lastSafeVersion: semverOrNull,
  checksum: z.optional(z.nullable(z.string().check(z.regex(CHECKSUM_RE, 'must be "sha256:" followed by 64 lower-case hex digits')))),
  lastApplied: z.optional(z.nullable(z.string())),
  enabled: z.boolean({ error: 'must be true or false' }),
  description: z.optional(z.nullable(z.string())),
  children: z.optional(z.array(moduleName)),
});
export type LegacyEntry = z.output<typeof legacyEntrySchema>;

export const legacyManifestSchema = z
  .looseObject({
    updates: z.array(legacyEntrySchema, { error: 'must be a list of update entries' }),
    entrypoint: moduleName,
  })
  .check(z.superRefine((m, ctx) => {
    const seen = new Set<string>();
    m.updates.forEach((u, i) => {
      if (seen.has(u.name)) ctx.addIssue({ code: 'custom', path: ['updates', i, 'name'], message: `"${u.name}" is listed twice` });
      seen.add(u.name);
    });
    const entry = m.updates.find((u) => u.name === m.entrypoint);
    if (entry === undefined) {
      ctx.addIssue({ code: 'custom', path: ['entrypoint'], message: `names "${m.entrypoint}", which is not an entry of updates` });
    } else if (entry.children === undefined) {
      ctx.addIssue({ code: 'custom', path: ['entrypoint'], message: `the entry "${m.entrypoint}" has no children to run` });
    } else if (new Set(entry.children).size !== entry.children.length) {
      ctx.addIssue({ code: 'custom', path: ['entrypoint'], message: `the children of "${m.entrypoint}" list a module twice` });
    }
  }));
export type LegacyManifest = z.output<typeof legacyManifestSchema>;

/** Where an issue is: "updates[1] (\"beta\").checksum", so the message names both the field and the entry. */
function fieldOf(pathParts: readonly PropertyKey[], raw: unknown): string {
  const [head, index, ...rest] = pathParts;
  if (head === 'updates' && typeof index === 'number') {
    const name = (raw as { updates?: { name?: unknown }[] }).updates?.[index]?.name;
    const label = typeof name === 'string' ? `updates[${index}] ("${name}")` : `updates[${index}]`;
    return [label, ...rest.map(String)].join('.');
  }
  return pathParts.map(String).join('.') || '(top level)';
}

/** Parses manifest.json's text; throws UpdatesError naming the file and every invalid field. */
export function parseLegacyManifest(text: string, file: string): LegacyManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw legacyError(file, `not valid JSON: ${(err as Error).message}`);
  }
  const parsed = legacyManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw legacyError(file, parsed.error.issues.map((i) => `${fieldOf(i.path, raw)}: ${i.message}`).join('; '));
  }
  return deepFreeze(parsed.data);
}

/** Reads and validates `<install root>/manifest.json`. */
export async function readLegacyManifest(installRoot: string): Promise<{ file: string; manifest: LegacyManifest }> {
  const file = path.join(installRoot, LEGACY_MANIFEST);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    throw legacyError(file, `cannot be read (${errnoCode(err) ?? messageOf(err)}); legacy mode needs the seed's manifest at the install root`);
  }
  return { file, manifest: parseLegacyManifest(text, file) };
}

function legacyError(file: string, detail: string): UpdatesError {
  return new UpdatesError('E_LEGACY_MANIFEST', { file, detail });
}

/** The indentation the file uses (so a rewrite keeps its look); JSON.stringify's "2" when none is found. */
function indentOf(text: string): string | number {
  return /^[{[]\s*\n([ \t]+)\S/.exec(text)?.[1] ?? 2;
}

/**
 * Sets fields of named entries in manifest.json and rewrites it atomically (temp + fsync + rename), keeping its
 * mode, owner, indentation, final newline and every other field. It re-reads the file first, so an edit made
 * while modules ran is kept; a file that no longer holds an `updates` list is left alone (thrown as invalid).
 */
export async function patchLegacyEntries(file: string, patches: ReadonlyMap<string, Record<string, unknown>>): Promise<void> {
  if (patches.size === 0) return;
  // A symlinked manifest is rewritten where it lives, not replaced by a file.
  const real = await fsp.realpath(file);
  const [text, st] = await Promise.all([fsp.readFile(real, 'utf8'), fsp.stat(real)]);
  const raw = JSON.parse(text) as { updates?: unknown };
  if (!Array.isArray(raw.updates)) throw legacyError(file, 'updates is no longer a list; lastApplied was not recorded');
  for (const entry of raw.updates as Record<string, unknown>[]) {
    const patch = typeof entry['name'] === 'string' ? patches.get(entry['name']) : undefined;
    if (patch !== undefined) Object.assign(entry, patch);
  }
  const out = `${JSON.stringify(raw, null, indentOf(text))}${text.endsWith('\n') ? '\n' : ''}`;
  await writeFileAtomic(real, out, st.mode & 0o7777);
  if (process.getuid?.() === 0 && (st.uid !== 0 || st.gid !== 0)) await fsp.chown(real, st.uid, st.gid);
}
