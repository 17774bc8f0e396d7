/**
 * State paths taken by the wrong kind of entry (index.json or state/journal.json that is a folder, modules/
 * that is a file): the obstacle is moved aside, kept under a numbered name for the operator, and the run goes
 * on. Check mode, which changes nothing, refuses instead, naming the path and the fix.
 */
import { promises as fsp } from 'node:fs';
import { UpdatesError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { moveAside } from '../core/move-aside.js';
import { journalBackup } from './journal.js';
import type { Layout } from './layout.js';

type Kind = 'file' | 'folder';

async function kindOf(p: string): Promise<Kind | 'other' | undefined> {
  const st = await fsp.stat(p).catch(() => undefined);
  if (st === undefined) return undefined;
  return st.isDirectory() ? 'folder' : st.isFile() ? 'file' : 'other';
}

/** Refuses a state folder that is not a folder: the lock and everything else live in it. */
export async function assertStateDir(layout: Layout): Promise<void> {
  const kind = await kindOf(layout.stateDir);
  if (kind !== undefined && kind !== 'folder') {
    throw new UpdatesError('E_STATE_OBSTACLE', { path: layout.stateDir, found: kind, expected: 'folder' });
  }
}

/** Moves every obstacle among the install root's state paths aside (or, in check mode, refuses). */
export async function clearObstacles(layout: Layout, logger: Logger, checkOnly: boolean): Promise<string[]> {
  const expected: [string, Kind][] = [
    [layout.globalIndex, 'file'],
    [layout.journal, 'file'],
    [journalBackup(layout.journal), 'file'],
    [layout.lastReport, 'file'],
    [layout.modulesDir, 'folder'],
    [layout.versionsDir, 'folder'],
    [layout.runsDir, 'folder'],
  ];
  const moved: string[] = [];
  for (const [p, want] of expected) {
    const found = await kindOf(p);
    if (found === undefined || found === want) continue;
    if (checkOnly) throw new UpdatesError('E_STATE_OBSTACLE', { path: p, found, expected: want });
    const to = await moveAside(p, 'obstacle');
    moved.push(to);
    logger.warn({ path: p, movedTo: to }, `${p} was a ${found} where a ${want} belongs; moved it aside to ${to} (kept for you to inspect or delete)`);
  }
  return moved;
}
