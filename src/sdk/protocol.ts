/**
 * The message protocol between a sandboxed module (through the SDK) and the broker.
 *
 * Defined once, here, and shared by both sides: the SDK builds requests of these shapes, the broker
 * validates a structured-cloned copy of every request against `requestSchema` before it acts.
 * Identity is never part of a message: the broker knows which module speaks from the channel it gave it.
 */
import * as z from 'zod/mini';
import { PROTOCOL_VERSION } from './protocol-base.js';

// The part every run needs on both ends (the version, replies, errors, a module's result) is protocol-base.ts:
// a sandbox worker loads that alone, not the schemas of every method below, which only the broker validates with.
export { PROTOCOL_VERSION, moduleResultSchema, replySchema, wireErrorSchema } from './protocol-base.js';
export type { ModuleResult, Reply, WireError } from './protocol-base.js';

/** Largest string the protocol accepts for file contents, command input and store values (bytes, UTF-8). */
export const MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
/** Longest single clock.sleep, ms (a module that needs longer sleeps in steps, within its deadline). */
export const MAX_SLEEP_MS = 60_000;
/** Most random bytes one random.bytes call returns. */
export const MAX_RANDOM_BYTES = 1024;
/** Longest path string accepted in a request. */
export const MAX_PATH_LENGTH = 4096;

const noNul = (s: string): boolean => !s.includes('\0');
/** An integer from `min` to `max`, inclusive. */
const intIn = (min: number, max: number): z.ZodMiniNumberFormat => z.int().check(z.gte(min), z.lte(max));
const pathString = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(MAX_PATH_LENGTH),
    z.refine(noNul, 'path contains a NUL byte'),
    z.refine((s) => s.startsWith('/'), 'path must be absolute'),
  );
const shortString = z.string().check(z.minLength(1), z.maxLength(256), z.refine(noNul, 'contains a NUL byte'));
const payloadString = z.string().check(z.maxLength(MAX_PAYLOAD_BYTES));
/** A backup label becomes a folder name: letters, digits, ".", "_" or "-", at most 64, not starting with a dot. */
export const BACKUP_LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const label = z.string().check(z.regex(BACKUP_LABEL_RE, 'label must be letters, digits, ".", "_" or "-" (at most 64)'));
/** A user or group: a name or a numeric id. */
const principal = z.union([shortString, intIn(0, 0xffffffff)]);
/** A file mode, as a number (0o755) or an octal string ("755", "0755"). */
const mode = z.union([
  intIn(0, 0o7777),
  z.string().check(z.regex(/^0?[0-7]{3,4}$/, 'mode must be octal, e.g. "755"')),
]);

/**
 * One target of `permissions.set`, the seed's PermissionTarget typed: `path` (absolute), `owner` and `group`
 * (a name or an id; each must be listed in the path's `owners` / `groups`), `mode` (a number such as `0o755` or
 * an octal string such as `"755"`), `recursive` (apply to everything below a folder), and `target_type`
 * (`"file"`, `"directory"` or `"any"`, the default: refuse the target when the path is not of that type).
 */
export const permissionTargetSchema = z.strictObject({
  path: pathString,
  owner: z.optional(principal),
  group: z.optional(principal),
  mode: z.optional(mode),
  recursive: z.optional(z.boolean()),
  target_type: z.optional(z.enum(['file', 'directory', 'any'])),
});
export type PermissionTarget = z.input<typeof permissionTargetSchema>;

const jsonValue: z.ZodMiniType<unknown> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValue), z.record(z.string(), jsonValue)]),
);

/** Every request a module may send, one schema per method. */
export const methodSchemas = {
  'log': z.strictObject({
    level: z.enum(['debug', 'info', 'warn', 'error']),
    message: z.string().check(z.maxLength(8192)),
  }),
  'permissions.set': z.strictObject({ targets: z.array(permissionTargetSchema).check(z.minLength(1), z.maxLength(256)) }),
  'state.backup': z.strictObject({ label, paths: z.array(pathString).check(z.minLength(1), z.maxLength(256)) }),
  'state.restore': z.strictObject({ label }),
  'state.list': z.strictObject({}),
  'fs.readFile': z.strictObject({ path: pathString }),
  'fs.writeFile': z.strictObject({ path: pathString, content: payloadString, mode: z.optional(mode) }),
  'fs.mkdir': z.strictObject({ path: pathString, mode: z.optional(mode) }),
  'fs.remove': z.strictObject({ path: pathString }),
  'fs.exists': z.strictObject({ path: pathString }),
  'exec': z.strictObject({
    argv: z.array(z.string().check(z.maxLength(4096), z.refine(noNul, 'argument contains a NUL byte'))).check(z.minLength(1), z.maxLength(256)),
    input: z.optional(payloadString),
    timeoutMs: z.optional(intIn(1, 3_600_000)),
  }),
  'services.restart': z.strictObject({ name: shortString }),
  'services.reload': z.strictObject({ name: shortString }),
  'services.status': z.strictObject({ name: shortString }),
  'store.get': z.strictObject({ key: shortString }),
  'store.set': z.strictObject({ key: shortString, value: jsonValue }),
  'store.delete': z.strictObject({ key: shortString }),
  'store.keys': z.strictObject({}),
  'clock.now': z.strictObject({}),
  'clock.sleep': z.strictObject({ ms: intIn(0, MAX_SLEEP_MS) }),
  'random.bytes': z.strictObject({ bytes: intIn(1, MAX_RANDOM_BYTES) }),
} as const;

export type Method = keyof typeof methodSchemas;
export const METHODS = Object.keys(methodSchemas) as Method[];
export type Params<M extends Method> = z.output<(typeof methodSchemas)[M]>;

/** Set on a result in check mode when the action was planned, not performed (the command did not run, the service was not touched). */
const planned = z.optional(z.literal(true));
const serviceStatusSchema = z.strictObject({ name: z.string(), active: z.boolean(), state: z.string(), planned });
const execResultSchema = z.strictObject({ exitCode: z.number(), stdout: z.string(), stderr: z.string(), timedOut: z.boolean(), planned });
const backupInfoSchema = z.strictObject({ label: z.string(), id: z.string(), createdAt: z.string(), files: z.number(), bytes: z.number(), planned });
/**
 * A service's state after a services call: `active` is true when systemd says "active"; `state` is its word.
 * In check mode a restart or reload is not performed: `planned` is true and `state` is "planned".
 */
export type ServiceStatus = z.infer<typeof serviceStatusSchema>;
/**
 * A command's outcome: its `exitCode`, captured `stdout` and `stderr` (UTF-8), and whether it `timedOut`. In check
 * mode the command does not run: `planned` is true, `exitCode` 0 and both outputs empty.
 */
export type ExecResult = z.infer<typeof execResultSchema>;
/**
 * One backup: its `label`, its `id`, when it was made (`createdAt`, ISO 8601), how many `files` and `bytes`. In
 * check mode no backup is made: `planned` is true, `id` is "planned" and the counts are 0.
 */
export type BackupInfo = z.infer<typeof backupInfoSchema>;

/** What each method resolves to, one schema per method (the broker's handlers are typed by it). */
export const resultSchemas = {
  'log': z.null(),
  'permissions.set': z.strictObject({ changed: z.number() }),
  'state.backup': backupInfoSchema,
  'state.restore': z.strictObject({ label: z.string(), id: z.string(), files: z.number(), planned }),
  'state.list': z.strictObject({ backups: z.array(backupInfoSchema) }),
  'fs.readFile': z.strictObject({ content: z.string() }),
  'fs.writeFile': z.strictObject({ changed: z.boolean() }),
  'fs.mkdir': z.strictObject({ created: z.boolean() }),
  'fs.remove': z.strictObject({ removed: z.boolean() }),
  'fs.exists': z.strictObject({ exists: z.boolean() }),
  'exec': execResultSchema,
  'services.restart': serviceStatusSchema,
  'services.reload': serviceStatusSchema,
  'services.status': serviceStatusSchema,
  'store.get': z.strictObject({ value: z.unknown() }),
  'store.set': z.null(),
  'store.delete': z.strictObject({ deleted: z.boolean() }),
  'store.keys': z.strictObject({ keys: z.array(z.string()) }),
  'clock.now': z.strictObject({ iso: z.string(), epochMs: z.number() }),
  'clock.sleep': z.null(),
  'random.bytes': z.strictObject({ hex: z.string() }),
} as const satisfies Record<Method, z.ZodMiniType>;
export type Results = { [M in Method]: z.infer<(typeof resultSchemas)[M]> };

/** A request, as it leaves the sandbox. */
export const requestSchema = z.strictObject({
  v: z.literal(PROTOCOL_VERSION),
  id: intIn(0, Number.MAX_SAFE_INTEGER),
  method: z.enum(METHODS as [Method, ...Method[]]),
  params: z.unknown(),
});
