/**
 * Schemas of the files the orchestrator reads from a repository: a module's index.json and the root index.json.
 *
 * Structure first (zod), then small named rules (semver validity, name matches folder). Parsed manifests are
 * frozen: validated at the boundary once, then trusted. zod/mini, with zod's English messages (zod-messages.ts):
 * every run parses each installed manifest, and classic zod's schemas cost several times as much to build.
 */
import path from 'node:path';
import * as semver from './semver.js';
import * as z from 'zod/mini';
import './zod-messages.js';
import { capabilityProblems } from './capability-rules.js';
import { DEFAULTS } from './defaults.js';
import { isKernelPath } from './protected-paths.js';
import { didYouMean } from './suggest.js';
import { describeIssues } from './issues.js';
import { MODULE_NAME_RE } from './module-name.js';

// Light modules of their own, so that what needs only these (the flag parser, the sandbox) does not load zod.
export { MODULE_NAME_RE } from './module-name.js';
export { describeIssues } from './issues.js';

/**
 * The message for keys a strict object does not know: each one named, with the closest known key when it looks
 * like a typo (`timeout` → `timeout_seconds`), because an unknown key is silently meaningless otherwise.
 */
export function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  return keys
    .map((k) => {
      const hint = didYouMean(k, known) ?? known.find((c) => c.startsWith(k) || k.startsWith(c));
      return `unknown key "${k}"${hint !== undefined ? ` (did you mean "${hint}"?)` : ''}; known keys: ${known.join(', ')}`;
    })
    .join('; ');
}

/** A strict object whose unknown-key issue names the key and suggests the known one it is closest to. */
function strict<S extends z.core.$ZodLooseShape>(shape: S) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? unknownKeysMessage(issue.keys, known) : undefined),
  });
}

const version = z.string({ error: 'schema_version is missing' }).check(
  z.refine((v) => semver.valid(v) !== null, {
    error: (issue) => `schema_version ${JSON.stringify(issue.input)} is not a semantic version (expected e.g. "1.2.0")`,
  }),
);

const absolutePath = z.string().check(
  z.minLength(1),
  z.refine((p) => p.startsWith('/'), 'path must be absolute'),
  z.refine((p) => !p.includes('\0'), 'path contains a NUL byte'),
  z.refine((p) => !p.split('/').includes('..'), 'path must not contain ".."'),
);

/** What a module may do to the files under one declared path. */
export const ACCESS = ['read', 'write', 'chmod', 'chown', 'backup'] as const;
export type Access = (typeof ACCESS)[number];

const principal = z.union([z.string().check(z.minLength(1), z.maxLength(64)), z.number().check(z.int(), z.minimum(0))]);

/** A grant path in one spelling: "//", "/./" and "/." collapse, a trailing "/" goes, before any rule sees it. */
export function normalizeGrantPath(p: string): string {
  const normal = path.posix.normalize(p);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

export const pathGrantSchema = strict({
  path: z.pipe(absolutePath, z.transform(normalizeGrantPath)).check(
    z.refine((p) => !isKernelPath(p) && p !== '/', 'paths under /proc, /sys or /dev, and "/" itself (however spelled: "/.", "//"), cannot be granted'),
  ),
  access: z.array(z.enum(ACCESS)).check(z.minLength(1)),
  owners: z._default(z.array(principal), []),
  groups: z._default(z.array(principal), []),
  /** setuid, setgid and sticky bits are refused unless this is true. */
  allow_special_bits: z._default(z.boolean(), false),
});
export type PathGrant = z.output<typeof pathGrantSchema>;

export const capabilitiesSchema = strict({
  paths: z._default(z.array(pathGrantSchema), []),
  commands: z._default(z.array(z.array(z.string().check(z.minLength(1), z.refine((s) => !s.includes('\0')))).check(z.minLength(1))), []),
  services: z._default(z.array(z.string().check(z.regex(/^[A-Za-z0-9@._-]+$/, 'not a service unit name'))), []),
});
export type Capabilities = z.output<typeof capabilitiesSchema>;

/** Every metadata field with its default: what `updates new-module` writes and the docs list. */
export const METADATA_DEFAULTS = Object.freeze({
  description: '',
  enabled: true,
  priority: DEFAULTS.modulePriority,
  timeout_seconds: DEFAULTS.moduleTimeoutSeconds,
  max_memory_mb: DEFAULTS.moduleMaxMemoryMb,
});

/**
 * A module's index.json: strict at every level but `configuration` (the module's own, free-form), so a typo such
 * as `timeout` or `capabilites` is refused with the key it was meant to be instead of being silently ignored.
 */
export const moduleManifestSchema = strict({
  metadata: strict({
    schema_version: version,
    name: z.optional(z.string().check(z.regex(MODULE_NAME_RE, 'name must be lower-case letters, digits, ".", "_" or "-"'))),
    description: z._default(z.string(), METADATA_DEFAULTS.description),
    enabled: z._default(z.boolean(), METADATA_DEFAULTS.enabled),
    priority: z._default(z.number().check(z.int(), z.minimum(0), z.maximum(10_000)), METADATA_DEFAULTS.priority),
    timeout_seconds: z._default(
      z.number().check(z.minimum(1, 'timeout_seconds must be at least 1 (a deadline in seconds; a shorter one cannot run any module)'), z.maximum(86_400)),
      METADATA_DEFAULTS.timeout_seconds,
    ),
    max_memory_mb: z._default(z.number().check(z.int(), z.minimum(16), z.maximum(16_384)), METADATA_DEFAULTS.max_memory_mb),
  }),
  configuration: z._default(z.record(z.string(), z.unknown()), {}),
  capabilities: z._default(capabilitiesSchema, { paths: [], commands: [], services: [] }),
});
export type ModuleManifest = z.output<typeof moduleManifestSchema>;

export const rootIndexSchema = z.looseObject({
  metadata: z.looseObject({ schema_version: version, channel: z._default(z.string(), 'stable') }),
  packages: z._default(z.record(z.string(), z.string()), {}),
});
export type RootIndex = z.output<typeof rootIndexSchema>;

/** Result of reading a manifest: the parsed value or a human-readable reason. */
export type ManifestResult = { ok: true; manifest: ModuleManifest } | { ok: false; reason: string };

/** Parses a module's index.json text; checks the declared name (if any) matches the folder name. */
export function parseModuleManifest(text: string, folderName: string): ManifestResult {
  // A run reads each installed manifest several times (plan, index, Phase 2): the same text parses once.
  const key = `${folderName}\0${text}`;
  const known = parsedManifests.get(key);
  if (known !== undefined) return known;
  const result = Object.freeze(parseManifestText(text, folderName));
  if (parsedManifests.size >= PARSED_MANIFESTS_KEPT) parsedManifests.clear();
  parsedManifests.set(key, result);
  return result;
}

/** Results of parseModuleManifest by folder name and text; results are deep-frozen, so safe to share. */
const parsedManifests = new Map<string, ManifestResult>();
const PARSED_MANIFESTS_KEPT = 4096;

function parseManifestText(text: string, folderName: string): ManifestResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `index.json is not valid JSON: ${(err as Error).message}` };
  }
  const parsed = moduleManifestSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: describeIssues(parsed.error) };
  const declared = parsed.data.metadata.name;
  if (declared !== undefined && declared !== folderName) {
    return { ok: false, reason: `metadata.name "${declared}" does not match the folder name "${folderName}"` };
  }
  const problems = capabilityProblems(parsed.data.capabilities);
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  return { ok: true, manifest: deepFreeze(parsed.data) };
}

/** Freezes a plain JSON value in place, recursively, and returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
