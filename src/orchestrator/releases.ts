/**
 * Orchestrator releases under the install root, flipped like modules:
 *
 *   releases/<version>-<tree>/   a complete, built orchestrator (its own bin/, dist/, node_modules/)
 *   releases/current          -> the release the launcher starts (absent: the launcher runs its own package)
 *   releases/state.json          the release on trial (`pending`) until its first run completes, and rollbacks
 *
 * bin/updates.js reads this layout too (in plain JavaScript): keep the two in step.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import * as z from 'zod/mini';
import { flipSymlink, readLinkOrUndefined, writeJsonAtomic } from '../core/fs-atomic.js';

export const releasesDir = (installRoot: string): string => path.join(installRoot, 'releases');
export const currentLink = (installRoot: string): string => path.join(releasesDir(installRoot), 'current');
export const releaseStateFile = (installRoot: string): string => path.join(releasesDir(installRoot), 'state.json');

const stateSchema = z.object({
  /** A release made current whose first run has not completed yet. `from` is the release before it (null: the launcher's own). */
  pending: z.optional(z.object({ dir: z.string(), version: z.string(), from: z.nullable(z.string()), fromVersion: z.string(), at: z.string() })),
  /** The release that was current before the last confirmed one (kept for a manual rollback). null: the launcher's own. */
  previous: z.optional(z.nullable(z.string())),
  /** A version refused or rolled back: not installed again until the repository carries a newer one. */
  held: z.optional(z.object({ version: z.string(), reason: z.string(), at: z.string() })),
  /** The last rollback, reported by the next run and then cleared. */
  rolledBack: z.optional(z.object({ version: z.string(), to: z.string(), reason: z.string(), at: z.string() })),
});
export type ReleaseState = z.infer<typeof stateSchema>;

export async function readReleaseState(installRoot: string): Promise<ReleaseState> {
  try {
    const r = stateSchema.safeParse(JSON.parse(await fsp.readFile(releaseStateFile(installRoot), 'utf8')));
    if (r.success) return r.data;
  } catch {
    // missing or corrupt: nothing pending
  }
  return {};
}

export async function writeReleaseState(installRoot: string, state: ReleaseState): Promise<void> {
  await fsp.mkdir(releasesDir(installRoot), { recursive: true });
  await writeJsonAtomic(releaseStateFile(installRoot), state);
}

/** The current release's folder name, or undefined when the launcher's own package runs. */
export async function currentRelease(installRoot: string): Promise<string | undefined> {
  return readLinkOrUndefined(currentLink(installRoot));
}

/** Makes `dir` (a folder name under releases/) current, or the launcher's own package when null. */
export async function setCurrent(installRoot: string, dir: string | null): Promise<void> {
  if (dir === null) await fsp.rm(currentLink(installRoot), { force: true });
  else await flipSymlink(currentLink(installRoot), dir);
}

/** Removes releases other than the current one and the one before it, and interrupted stagings. */
export async function collectReleaseGarbage(installRoot: string, state: ReleaseState): Promise<void> {
  const keep = new Set<string>(['current', 'state.json']);
  const cur = await currentRelease(installRoot);
  if (cur !== undefined) keep.add(cur);
  if (state.pending?.from) keep.add(state.pending.from);
  if (state.previous) keep.add(state.previous);
  for (const entry of await fsp.readdir(releasesDir(installRoot)).catch(() => [] as string[])) {
    if (!keep.has(entry)) await fsp.rm(path.join(releasesDir(installRoot), entry), { recursive: true, force: true });
  }
}
