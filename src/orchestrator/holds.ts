/**
 * Operator holds (`updates hold MODULE`): modules kept at their live version, neither updated nor downgraded,
 * until `updates unhold`. They live in local state (state/holds.json), never in the repository, and are
 * changed only under the run lock, so a run sees either the old set or the new one.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as z from 'zod/mini';
import { UpdatesError } from '../core/errors.js';
import { mkdirTraversable, writeJsonAtomic } from '../core/fs-atomic.js';
import { readOne } from './installed.js';
import type { Layout } from './layout.js';
import { acquireLock } from './lock.js';

const holdSchema = z.object({ reason: z.string(), by: z.string(), at: z.string(), version: z.nullable(z.string()) });
const holdsSchema = z.record(z.string(), holdSchema);

/** One hold: why, who and when, and the version live when it was placed. */
export type Hold = z.infer<typeof holdSchema>;
export type Holds = Record<string, Hold>;

export const holdsFile = (layout: Layout): string => path.join(layout.stateDir, 'holds.json');

/** Reads the holds; none when the file is missing. A corrupt file is an error: silently dropping holds would update held modules. */
export async function readHolds(layout: Layout): Promise<Holds> {
  let text: string;
  try {
    text = await fsp.readFile(holdsFile(layout), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let parsed: ReturnType<typeof holdsSchema.safeParse>;
  try {
    parsed = holdsSchema.safeParse(JSON.parse(text));
  } catch (err) {
    throw new UpdatesError('E_CONFIG', { detail: `${holdsFile(layout)} is not valid JSON (${(err as Error).message}); fix or remove it, then place the holds again` });
  }
  if (!parsed.success) throw new UpdatesError('E_CONFIG', { detail: `${holdsFile(layout)} is not a valid holds file; fix or remove it, then place the holds again` });
  return parsed.data;
}

export async function writeHolds(layout: Layout, holds: Holds): Promise<void> {
  await fsp.mkdir(layout.stateDir, { recursive: true, mode: 0o700 });
  const sorted = Object.fromEntries(Object.entries(holds).sort(([a], [b]) => (a < b ? -1 : 1)));
  await writeJsonAtomic(holdsFile(layout), sorted);
}

/** Who is acting: the user behind sudo when there is one, else the process's user. */
export function actor(): string {
  const sudo = process.env['SUDO_USER'];
  if (sudo !== undefined && sudo !== '') return sudo;
  try {
    return os.userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** How a hold reads in a report or a log line. */
export function describeHold(h: Hold): string {
  return `held by ${h.by} on ${h.at}${h.reason !== '' ? `: ${h.reason}` : ''}; "updates unhold" releases it`;
}

export interface HoldChange { module: string; hold?: Hold; previous?: Hold }

/** Places (or replaces) an operator's hold on an installed module, under the run lock. */
export async function placeHold(layout: Layout, name: string, reason: string, options: { wait: boolean }): Promise<HoldChange> {
  return withRunLock(layout, options, async () => {
    const mod = await readOne(layout, name);
    if (mod === undefined) throw new UpdatesError('E_NOT_INSTALLED', { module: name, detail: 'only installed modules can be held' });
    const holds = await readHolds(layout);
    const previous = holds[name];
    const hold: Hold = { reason, by: actor(), at: new Date().toISOString(), version: mod.version ?? null };
    await writeHolds(layout, { ...holds, [name]: hold });
    return { module: name, hold, ...(previous !== undefined ? { previous } : {}) };
  });
}

/** Releases an operator's hold, under the run lock; a module that was not held is reported as such. */
export async function releaseHold(layout: Layout, name: string, options: { wait: boolean }): Promise<HoldChange> {
  return withRunLock(layout, options, async () => {
    const holds = await readHolds(layout);
    const previous = holds[name];
    if (previous !== undefined) {
      const { [name]: _, ...rest } = holds;
      await writeHolds(layout, rest);
    }
    return { module: name, ...(previous !== undefined ? { previous } : {}) };
  });
}

/** Runs `fn` holding the install root's run lock (E_LOCKED while a run is going on, unless `wait`). */
export async function withRunLock<T>(layout: Layout, options: { wait: boolean }, fn: () => Promise<T>): Promise<T> {
  await mkdirTraversable(layout.root);
  await fsp.mkdir(layout.stateDir, { recursive: true, mode: 0o700 });
  const lock = await acquireLock(layout.root, { wait: options.wait });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
