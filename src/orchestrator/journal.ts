/**
 * The journal: what the orchestrator must remember between runs and cannot derive from the install itself:
 * the last commit installed from, and module versions that failed their first run (held, not reinstalled).
 */
import { promises as fsp } from 'node:fs';
import * as semver from '../core/semver.js';
import * as z from 'zod/mini';
import { errnoCode } from '../core/errno.js';
import { writeFileAtomicIfChanged } from '../core/fs-atomic.js';
import type { Logger } from '../core/logger.js';
import { moveAside } from '../core/move-aside.js';

const journalSchema = z.object({
  lastCommit: z.optional(z.string()),
  /** Highest version ever installed per module: the repository going back never downgrades (anti-rollback). */
  watermarks: z._default(z.record(z.string(), z.string()), {}),
  /** Versions that failed their first run and were rolled back: not installed again until a newer one appears. */
  /** `by`: set when an operator rolled the version back (`updates rollback`) rather than its first run failing. */
  held: z._default(z.record(z.string(), z.object({ version: z.string(), reason: z.string(), at: z.string(), by: z.optional(z.string()) })), {}),
  /** Set when the journal and its backup were lost: nothing is installed until an operator confirms the repository. */
  historyUnconfirmed: z.optional(z.boolean()),
});
export type Journal = z.infer<typeof journalSchema>;

/** The backup copy of the journal, written after it, so a damaged journal never loses a safety fact. */
export const journalBackup = (file: string): string => file.replace(/\.json$/, '.backup.json');

type Read = { ok: true; journal: Journal } | { ok: false; missing: boolean };

async function readOneCopy(file: string): Promise<Read> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    return { ok: false, missing: errnoCode(err) === 'ENOENT' };
  }
  try {
    const parsed = journalSchema.safeParse(JSON.parse(text));
    if (parsed.success) return { ok: true, journal: parsed.data };
  } catch {
    // not JSON
  }
  return { ok: false, missing: false };
}

export interface ReadJournalOptions {
  logger?: Logger;
  /** Check mode: change nothing on disk (an unreadable journal is left where it is). */
  readOnly?: boolean;
}

/**
 * Reads the journal, or its backup when it is damaged. When neither is readable (and one of them exists),
 * the safety facts are lost: the journal comes back marked `historyUnconfirmed`, so no commit is installed
 * until an operator confirms the repository, and the damaged file is kept aside for them.
 */
export async function readJournal(file: string, o: ReadJournalOptions = {}): Promise<Journal> {
  const main = await readOneCopy(file);
  if (main.ok) return main.journal;
  const backup = await readOneCopy(journalBackup(file));
  if (backup.ok) {
    o.logger?.warn({ journal: file }, `${file} is ${main.missing ? 'missing' : 'damaged'}; its facts were recovered from ${journalBackup(file)}`);
    return backup.journal;
  }
  if (main.missing && backup.missing) return { watermarks: {}, held: {} };
  let kept = '';
  if (!o.readOnly && !main.missing) kept = ` (kept as ${await moveAside(file, 'damaged')})`;
  o.logger?.error({ journal: file }, `${file} and ${journalBackup(file)} are unreadable${kept}: the last installed commit and held versions are lost; no commit is installed until --allow-history-rewrite confirms the repository`);
  return { watermarks: {}, held: {}, historyUnconfirmed: true };
}

/**
 * Writes the journal, then its backup, each atomically; a copy that already holds these very facts (a run that
 * changed none of them) is only fsynced, not rewritten.
 */
export async function writeJournal(file: string, journal: Journal): Promise<void> {
  const text = `${JSON.stringify(journal, null, 2)}\n`;
  await writeFileAtomicIfChanged(file, text);
  await writeFileAtomicIfChanged(journalBackup(file), text);
}

/** Raises each module's watermark to its live version (called after Phase 2, so rolled-back versions do not count). */
export function raiseWatermarks(journal: Journal, live: { name: string; version?: string }[]): void {
  for (const m of live) {
    if (m.version === undefined) continue;
    const w = journal.watermarks[m.name];
    if (w === undefined || !semver.valid(w) || semver.gt(m.version, w)) journal.watermarks[m.name] = m.version;
  }
}
