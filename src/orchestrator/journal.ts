/**
 * The journal: what the orchestrator must remember between runs and cannot derive from the install itself:
 * the last commit installed from, and module versions that failed their first run (held, not reinstalled).
 */
import { promises as fsp } from 'node:fs';
import semver from 'semver';
import { z } from 'zod';
import { writeJsonAtomic } from '../core/fs-atomic.js';

const journalSchema = z.object({
  lastCommit: z.string().optional(),
  /** Highest version ever installed per module: the repository going back never downgrades (anti-rollback). */
  watermarks: z.record(z.string(), z.string()).default({}),
  /** Versions that failed their first run and were rolled back: not installed again until a newer one appears. */
  /** `by`: set when an operator rolled the version back (`updates rollback`) rather than its first run failing. */
  held: z.record(z.string(), z.object({ version: z.string(), reason: z.string(), at: z.string(), by: z.string().optional() })).default({}),
});
export type Journal = z.infer<typeof journalSchema>;

/** Reads the journal; a missing or unreadable one starts empty (everything in it is advisory or re-derivable). */
export async function readJournal(file: string): Promise<Journal> {
  try {
    const parsed = journalSchema.safeParse(JSON.parse(await fsp.readFile(file, 'utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // missing or corrupt: start anew
  }
  return { watermarks: {}, held: {} };
}

export async function writeJournal(file: string, journal: Journal): Promise<void> {
  await writeJsonAtomic(file, journal);
}

/** Raises each module's watermark to its live version (called after Phase 2, so rolled-back versions do not count). */
export function raiseWatermarks(journal: Journal, live: { name: string; version?: string }[]): void {
  for (const m of live) {
    if (m.version === undefined) continue;
    const w = journal.watermarks[m.name];
    if (w === undefined || !semver.valid(w) || semver.gt(m.version, w)) journal.watermarks[m.name] = m.version;
  }
}
