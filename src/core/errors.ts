/**
 * The error catalogue: every error the orchestrator or the broker reports has a stable code here, and a
 * message that says what was wrong and how to fix it. test/core/errors.test.ts pins the codes.
 */
import * as z from 'zod/mini';
import './zod-messages.js';

type Template = (details: Record<string, string>) => string;

const fill =
  (text: string): Template =>
  (d) =>
    text.replace(/\{(\w+)\}/g, (_, k: string) => d[k] ?? `{${k}}`);

/** Code → message template. Placeholders in braces are filled from the error's details. */
export const CATALOGUE = {
  // Usage and configuration
  E_USAGE: fill('{detail}. Run "updates --help" for usage.'),
  E_CONFIG: fill('{detail}'),
  E_LOCKED: fill('another run holds the lock on {root} (pid {pid}, started {since}); wait for it, or pass --wait'),
  // Sync
  E_SYNC_UNREACHABLE: fill('cannot fetch {url} (branch {branch}): {detail}. Check the URL, the network and the branch name; nothing installed was changed'),
  E_SYNC_NO_BRANCH: fill('the remote {url} has no branch "{branch}"; pass --branch with an existing branch'),
  E_SYNC_REWRITTEN: fill('the remote history was rewritten: fetched commit {fetched} does not descend from the last installed commit {installed}. Nothing was installed; if this is intended, pass --allow-history-rewrite'),
  E_UNSIGNED: fill('refused commit {commit}: {detail} (allowed signers: {signers}). Nothing was installed; sign the commit with an allowed key, or fix the allowed-signers file'),
  E_SYNC_BAD_OBJECTS: fill('the remote {url} (branch {branch}) sent git objects that git\'s own check refuses ({detail}); nothing was fetched or installed. Rewrite the offending commit so no tree holds an entry named ".", ".." or ".git", an empty name, a "/" in a name, or a name twice'),
  E_FETCH_TOO_LARGE: fill('the fetch from {url} exceeded {limitMb} MB and was stopped; nothing was installed. Raise --max-fetch-mb if the repository is really that large'),
  // Repository content
  E_MANIFEST_INVALID: fill('module "{module}": invalid index.json: {detail}. Fix modules/{module}/index.json in the repository'),
  E_ROOT_INDEX_INVALID: fill('the repository\'s root index.json is invalid: {detail}'),
  E_MODULE_NAME: fill('module folder "{module}" has an invalid name: use lower-case letters, digits, ".", "_" or "-" (at most 64)'),
  E_MODULE_CONTENT: fill('module "{module}": {detail}'),
  E_BUILD: fill('module "{module}" does not build: {detail}'),
  E_INSTALL: fill('module "{module}": install failed: {detail}; the previous version stays live'),
  E_NOT_INSTALLED: fill('module "{module}" is not installed ({detail}); "updates status" lists the installed modules'),
  E_NO_PREVIOUS: fill('module "{module}" has no previous version to roll back to: only {version} is installed. A version is kept for rollback when a newer one installs, and a rollback uses it up'),
  E_SELF_UPDATE: fill('orchestrator {version} was not installed: {detail}; the running orchestrator stays current'),
  // Legacy manifest mode
  E_LEGACY_MANIFEST: fill('the legacy manifest {file} is invalid: {detail}'),
  E_CHECKSUM: fill('module "{module}": checksum mismatch: manifest.json expects {expected}, the installed folder is {actual}; it was changed since the manifest was written, so it is not run. If the change is intended, update its checksum in manifest.json'),
  E_LEGACY_CHILD: fill('module "{module}": {detail}'),
  // Phase 2: module outcomes
  E_MODULE_FAILED: fill('module "{module}" failed: {detail}'),
  E_MODULE_TIMEOUT: fill('module "{module}" did not finish within {seconds} s and was stopped; raise metadata.timeout_seconds if it needs longer'),
  E_MODULE_MEMORY: fill('module "{module}" ran out of memory (limit {limitMb} MB); raise metadata.max_memory_mb if it needs more'),
  E_MODULE_EXITED: fill('module "{module}" tried to end its worker ({detail}); a module returns from main() instead'),
  E_SANDBOX_MEMORY: fill('module "{module}" was stopped: the sandbox process exceeded its memory cap of {limitMb} MB (off-heap memory such as ArrayBuffers counts); every module running in it was stopped'),
  E_SANDBOX_LOST: fill('module "{module}" was stopped: {detail}'),
  E_MODULE_RESULT: fill('module "{module}" returned {detail}; main() must resolve to { success: boolean, changed?: boolean, message?: string }'),
  // Broker denials
  E_BAD_REQUEST: fill('invalid SDK request {method}: {detail}'),
  E_UNDECLARED_PATH: fill('{method} {path}: no capability covers this path with "{access}" access; declare it in capabilities.paths of index.json'),
  E_PATH_ESCAPE: fill('{method} {path}: the path leaves the declared root {root} ({detail})'),
  E_UNDECLARED_OWNER: fill('{method} {path}: owner/group "{principal}" is not declared in capabilities.paths[].{field} for this path'),
  E_SPECIAL_BITS: fill('{method} {path}: mode {mode} sets setuid, setgid or sticky bits; declare "allow_special_bits": true for this path if it must'),
  E_UNDECLARED_COMMAND: fill('exec {argv}: this command is not declared in capabilities.commands of index.json (declare the exact argv)'),
  E_UNDECLARED_SERVICE: fill('{method} {service}: this service is not declared in capabilities.services of index.json'),
  E_LIMIT: fill('{method}: {detail}'),
  E_RUN_ENDED: fill('{method}: the module\'s run has ended; SDK calls after main() returned are refused'),
  E_NOT_FOUND: fill('{method} {path}: {detail}'),
  E_BACKUP_NOT_FOUND: fill('state.restore: no backup labelled "{label}" for this module'),
  E_BACKUP_CORRUPT: fill('state.restore {label}: the backup does not verify ({detail}); nothing was restored'),
  E_IO: fill('{method}: {detail}'),
  // Install root state
  E_STATE_OBSTACLE: fill('{path} is a {found} where the orchestrator keeps a {expected}; move it aside (e.g. mv {path} {path}.obstacle-1) and run again'),
  E_JOURNAL_LOST: fill('the journal {journal} and its backup are unreadable, so the last installed commit and the held versions are unknown and a foreign or rewritten history cannot be told apart. Nothing was installed; check the repository URL, then run once with --allow-history-rewrite (or "allow_history_rewrite": true in config.json) to confirm it'),
  E_FS_READONLY: fill('the file system holding {path} is read-only ({detail}); remount it read-write and run again'),
  E_FS_FULL: fill('no space left on the file system holding {path} ({detail}); free space on it and run again'),
  E_FS_DENIED: fill('{path}: permission denied ({detail}); the orchestrator must be able to write its install root, so run it as root or fix the ownership'),
  E_INTERNAL: fill('internal error: {detail}. Please report it'),
} as const satisfies Record<string, Template>;

export type ErrorCode = keyof typeof CATALOGUE;

/**
 * An error as plain data, the one shape in which errors cross threads, processes and reports. `data` carries the
 * catalogue details when there are any. The SDK's wire error (src/sdk/protocol.ts) is the same shape, declared
 * there because the SDK imports nothing of the orchestrator.
 */
export const plainErrorSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  data: z.optional(z.record(z.string(), z.string())),
});
export type PlainError = z.infer<typeof plainErrorSchema>;

/** An error of the catalogue. Its `details` are plain strings so it can cross a thread as data. */
export class UpdatesError extends Error {
  override readonly name = 'UpdatesError';
  constructor(
    readonly code: ErrorCode,
    readonly details: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(CATALOGUE[code](details), options);
  }

  /** Plain `{code, message, data}`, the form in which errors cross threads and reports. */
  toWire(): PlainError & { data: Record<string, string> } {
    return { code: this.code, message: this.message, data: { ...this.details } };
  }
}

/** A message for anything thrown: catalogue errors keep theirs, others get their message or String(). */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
