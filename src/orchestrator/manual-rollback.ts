/**
 * `updates rollback MODULE`: the operator's rollback. Under the run lock, the live link is flipped back to the
 * module's previous version (one atomic rename); the version rolled back from is held in the journal, so runs
 * keep the module where it is until the repository carries a newer version.
 */
import { UpdatesError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { actor, withRunLock } from './holds.js';
import { rollback } from './install.js';
import { readOne, readPrevious } from './installed.js';
import { readJournal, writeJournal } from './journal.js';
import type { Layout } from './layout.js';
import { refreshIndex } from './phase1.js';

export interface RollbackResult { module: string; from: string | null; to: string | null; held: string | null }

export async function rollbackModule(layout: Layout, name: string, o: { wait: boolean; orchestratorVersion: string; logger: Logger }): Promise<RollbackResult> {
  return withRunLock(layout, { wait: o.wait }, async () => {
    const live = await readOne(layout, name);
    if (live === undefined) throw new UpdatesError('E_NOT_INSTALLED', { module: name, detail: 'nothing to roll back' });
    const prev = await readPrevious(layout, name);
    if (prev === undefined) throw new UpdatesError('E_NO_PREVIOUS', { module: name, version: live.version ?? live.versionDir ?? 'one version' });
    const back = await rollback(layout, name);
    if (back === undefined) throw new UpdatesError('E_NO_PREVIOUS', { module: name, version: live.version ?? live.versionDir ?? 'one version' });
    const journal = await readJournal(layout.journal);
    if (live.version !== undefined) {
      const by = actor();
      journal.held[name] = { version: live.version, reason: `rolled back by ${by} with "updates rollback"`, at: new Date().toISOString(), by };
      await writeJournal(layout.journal, journal);
    }
    await refreshIndex({ layout, orchestratorVersion: o.orchestratorVersion }, undefined);
    o.logger.info({ module: name, from: live.version, to: prev.version }, `rolled ${name} back from ${live.version ?? '?'} to ${prev.version ?? back}`);
    return { module: name, from: live.version ?? null, to: prev.version ?? null, held: live.version ?? null };
  });
}
