/**
 * Phase 1's plan: what to do with each module, from the commit's modules, what is installed and the journal.
 * A version is compared with semver only; an invalid version is an error for that module, never 0.0.0.
 * A run never downgrades: a repository that goes back is reported and ignored.
 */
import * as semver from '../core/semver.js';
import { describeHold } from './holds.js';
import type { Hold, Holds } from './holds.js';
import type { InstalledModule } from './installed.js';
import type { Journal } from './journal.js';
import type { RemoteModule } from './snapshot.js';

export type PlanAction =
  | 'install' // new module
  | 'update' // repository version is greater
  | 'repair' // the installed copy is unusable: reinstall the repository version
  | 'current' // same version
  | 'unbumped' // same version, but the repository's files differ from the installed ones: not installed
  | 'kept-newer' // the repository has an older version: never downgraded
  | 'held' // this version failed its first run before: waiting for a newer one
  | 'invalid' // the repository's copy is refused; the installed one (if any) stays
  | 'local-only'; // installed, not in the repository: left alone

export interface PlanEntry {
  module: string;
  action: PlanAction;
  from?: string;
  to?: string;
  reason?: string;
  remote?: RemoteModule;
  /** The operator's hold, when the module is held by one. */
  hold?: Hold;
}

/** True for the actions that install something. */
export const installs = (a: PlanAction): boolean => a === 'install' || a === 'update' || a === 'repair';

/** Builds the plan, sorted by module name. */
export function planUpdates(remote: RemoteModule[], installed: InstalledModule[], journal: Journal, holds: Holds = {}): PlanEntry[] {
  const local = new Map(installed.map((m) => [m.name, m]));
  const entries: PlanEntry[] = remote.map((r) => {
    const hold = holds[r.name];
    const from = local.get(r.name)?.version;
    const to = r.manifest?.metadata.schema_version;
    // An operator's hold comes first: the module is neither updated, repaired nor downgraded.
    if (hold !== undefined) return { module: r.name, action: 'held', hold, reason: `${r.name} is ${describeHold(hold)}`, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
    return planOne(r, local.get(r.name), journal);
  });
  const remoteNames = new Set(remote.map((r) => r.name));
  for (const m of installed) {
    if (!remoteNames.has(m.name)) {
      entries.push({ module: m.name, action: 'local-only', ...(m.version ? { from: m.version } : {}), reason: 'not in the repository; left as it is' });
    }
  }
  return entries.sort((a, b) => (a.module < b.module ? -1 : a.module > b.module ? 1 : 0));
}

/**
 * Why a changed module is not installed: versions decide installs, and its version did not move. Names the next
 * patch version, the smallest bump that installs it.
 */
function unbumpedReason(name: string, version: string): string {
  return `modules/${name} changed since ${version} was installed, but its schema_version is still ${version}, so the change is not installed; bump metadata.schema_version in modules/${name}/index.json (e.g. to ${semver.inc(version, 'patch') ?? 'a higher version'})`;
}

function planOne(r: RemoteModule, local: InstalledModule | undefined, journal: Journal): PlanEntry {
  const from = local?.version;
  const base = { module: r.name, remote: r, ...(from !== undefined ? { from } : {}) };
  if (r.problem !== undefined || r.manifest === undefined) {
    return { ...base, action: 'invalid', reason: r.problem?.message ?? 'invalid module' };
  }
  const to = r.manifest.metadata.schema_version;
  const entry = { ...base, to };
  const held = journal.held[r.name];
  if (held !== undefined && held.version === to) {
    const why = held.by !== undefined ? `was rolled back by ${held.by} on ${held.at}` : `failed its first run on ${held.at} (${held.reason})`;
    return { ...entry, action: 'held', reason: `version ${to} ${why}; waiting for a newer version` };
  }
  if (local === undefined) return { ...entry, action: 'install' };
  if (local.version === undefined) return { ...entry, action: 'repair', reason: `installed copy is unusable: ${local.problem ?? 'invalid version'}` };
  const watermark = journal.watermarks[r.name];
  const floor = watermark !== undefined && semver.valid(watermark) && semver.gt(watermark, local.version) ? watermark : local.version;
  if (semver.gt(to, floor)) return { ...entry, action: 'update' };
  if (semver.eq(to, local.version)) {
    if (local.damaged !== undefined) return { ...entry, action: 'repair', reason: `the installed copy is damaged: ${local.damaged}` };
    if (local.tree !== undefined && local.tree !== r.treeOid) return { ...entry, action: 'unbumped', reason: unbumpedReason(r.name, to) };
    return { ...entry, action: 'current' };
  }
  return {
    ...entry,
    action: 'kept-newer',
    reason: `the repository has ${to}, older than ${semver.gt(floor, local.version) ? `the highest installed before, ${floor}` : `the installed ${local.version}`}; never downgraded`,
  };
}
