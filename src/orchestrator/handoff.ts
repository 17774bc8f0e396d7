/**
 * The hand-over from an orchestrator that just installed its successor to that successor, within one run:
 * the parent keeps the run lock and waits; the child finishes the run (Phase 2 on the new code) and reports
 * the parent's Phase 1 as part of its own.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../core/fs-atomic.js';
import type { Layout } from './layout.js';
import { lockName, queryHolder } from './lock.js';
import type { RunReport } from './report.js';

/** Environment variable naming the parent's pid; set only on the re-executed child. */
export const HANDOFF_ENV = 'UPDATES_HANDOFF_FROM';

export interface Handoff {
  parentPid: number;
  report: Pick<RunReport, 'updates' | 'errors' | 'orchestrator' | 'repository'>;
  /** Modules the parent installed in this run: a failure in the child's Phase 2 still rolls them back. */
  updated: [string, { from: string | null; to: string }][];
}

const handoffFile = (layout: Layout): string => path.join(layout.stateDir, 'handoff.json');

export async function writeHandoff(layout: Layout, handoff: Handoff): Promise<void> {
  await writeJsonAtomic(handoffFile(layout), handoff);
}

/**
 * In the child: the hand-over, when this process really is the re-executed child of the lock's holder.
 * The file is removed once read, so a later, unrelated run never picks it up.
 */
export async function takeHandoff(layout: Layout): Promise<Handoff | undefined> {
  const claimed = Number(process.env[HANDOFF_ENV]);
  if (!Number.isInteger(claimed) || claimed !== process.ppid) return undefined;
  const holder = await queryHolder(await lockName(layout.root));
  if (holder?.pid !== claimed) return undefined;
  try {
    const h = JSON.parse(await fsp.readFile(handoffFile(layout), 'utf8')) as Handoff;
    await fsp.rm(handoffFile(layout), { force: true });
    return h.parentPid === claimed ? h : undefined;
  } catch {
    return undefined;
  }
}
