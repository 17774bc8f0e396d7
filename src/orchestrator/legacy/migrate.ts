/**
 * `updates migrate-legacy`: writes, for each entry of the legacy manifest.json, the module's index.json of the
 * new format into its installed folder, so `status`, the normal run and legacy mode's capability lookup read it.
 *
 * Decisions:
 * - It writes into the live folder (`modules/<name>`, through its one link): that is where index.json is read.
 * - An existing index.json is never overwritten. One whose metadata agrees with the manifest is `kept`; one that
 *   differs or does not parse is a `conflict`: reported with the reason, left as it is, exit 1.
 * - An entry with no semantic version is `skipped` (never guessed as 0.0.0), as is a group entry (children, no
 *   folder); an entry with no installed folder is `missing`; nothing is created for either.
 * - index.json is a regular file, so writing it changes the folder's checksum. When the folder matched its
 *   checksum before, manifest.json's checksum is updated to the new listing (legacy mode keeps running it);
 *   when it did not, the checksum is left as it was and the entry says so (legacy mode goes on refusing it).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UpdatesError, messageOf } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/fs-atomic.js';
import { layoutOf } from '../layout.js';
import type { Layout } from '../layout.js';
import { acquireLock } from '../lock.js';
import type { Logger } from '../../core/logger.js';
import { parseModuleManifest } from '../../core/manifest.js';
import type { ModuleManifest } from '../../core/manifest.js';
import type { ReportError } from '../report.js';
import { EXIT } from '../../core/exit-codes.js';
import { folderChecksum, moduleFolder } from './checksum.js';
import { patchLegacyEntries, readLegacyManifest } from './manifest.js';
import type { LegacyEntry } from './manifest.js';

export interface MigrateOptions { installRoot: string; wait: boolean; logger: Logger }

export type MigrateStatus = 'written' | 'kept' | 'conflict' | 'missing' | 'skipped';

export interface MigrateEntry {
  module: string;
  status: MigrateStatus;
  /** The index.json concerned. */
  file?: string;
  /** For `written`: whether manifest.json's checksum was moved to the new listing. */
  checksum?: 'updated' | 'unverified';
  message?: string;
}

export interface MigrateReport { manifest: string; entries: MigrateEntry[]; errors: ReportError[]; exitCode: number }

/** The index.json of the new format equivalent to one manifest entry. */
export function indexJsonOf(entry: LegacyEntry & { version: string }): string {
  const metadata = { schema_version: entry.version, name: entry.name, description: entry.description ?? '', enabled: entry.enabled };
  return `${JSON.stringify({ metadata }, null, 2)}\n`;
}

/** Migrates every entry of `<install root>/manifest.json`, under the run lock. Throws only E_LOCKED. */
export async function migrateLegacy(options: MigrateOptions): Promise<MigrateReport> {
  const layout = layoutOf(options.installRoot);
  const logger = options.logger.child({ mode: 'migrate-legacy' });
  const report: MigrateReport = { manifest: path.join(layout.root, 'manifest.json'), entries: [], errors: [], exitCode: EXIT.OK };
  await fsp.mkdir(layout.stateDir, { recursive: true });
  const lock = await acquireLock(layout.root, { wait: options.wait });
  try {
    const { file, manifest } = await readLegacyManifest(layout.root);
    const checksums = new Map<string, Record<string, unknown>>();
    for (const entry of manifest.updates) {
      const done = await migrateOne(layout, entry, checksums).catch((err: unknown): MigrateEntry => ({ module: entry.name, status: 'conflict', message: `could not migrate: ${messageOf(err)}` }));
      logger[done.status === 'conflict' ? 'error' : 'info']({ module: done.module, status: done.status }, `${done.module}: ${done.status}${done.message ? ` (${done.message})` : ''}`);
      report.entries.push(done);
    }
    await patchLegacyEntries(file, checksums);
  } catch (err) {
    const e = err instanceof UpdatesError ? err : new UpdatesError('E_INTERNAL', { detail: messageOf(err) });
    logger.error({ code: e.code }, e.message);
    report.errors.push({ code: e.code, message: e.message });
  } finally {
    await lock.release();
  }
  if (report.errors.length > 0 || report.entries.some((e) => e.status === 'conflict')) report.exitCode = EXIT.FAILED;
  return report;
}

async function migrateOne(layout: Layout, entry: LegacyEntry, checksums: Map<string, Record<string, unknown>>): Promise<MigrateEntry> {
  const name = entry.name;
  const folder = await moduleFolder(layout.modulesDir, name);
  if (folder === undefined && entry.children !== undefined) return { module: name, status: 'skipped', message: 'a group entry (it lists children and has no folder)' };
  if (entry.version == null) return { module: name, status: 'skipped', message: 'no semantic version in manifest.json; the new format needs one' };
  if (folder === undefined) return { module: name, status: 'missing', message: `modules/${name} does not exist; nothing was written` };
  if ('problem' in folder) return { module: name, status: 'missing', message: `${folder.problem}; nothing was written` };
  const file = path.join(folder.dir, 'index.json');
  const existing = await fsp.readFile(file, 'utf8').catch(() => undefined);
  if (existing !== undefined) return compareExisting(entry, file, existing);
  const text = indexJsonOf({ ...entry, version: entry.version });
  if (!parseModuleManifest(text, name).ok) throw new UpdatesError('E_INTERNAL', { detail: `the index.json made for ${name} does not parse` });
  const verified = entry.checksum != null && (await folderChecksum(folder.dir)) === entry.checksum;
  await writeFileAtomic(file, text);
  if (!verified) return { module: name, status: 'written', file, checksum: 'unverified', message: 'its folder did not match its checksum before; the checksum in manifest.json was left as it was' };
  checksums.set(name, { checksum: await folderChecksum(folder.dir) });
  return { module: name, status: 'written', file, checksum: 'updated' };
}

/** An index.json already there: kept when its metadata agrees with the entry, else a conflict naming the fields. */
function compareExisting(entry: LegacyEntry, file: string, text: string): MigrateEntry {
  const parsed = parseModuleManifest(text, entry.name);
  if (!parsed.ok) return { module: entry.name, status: 'conflict', file, message: `an index.json is already there and is invalid (${parsed.reason}); left as it is` };
  const differs = differingFields(entry, parsed.manifest);
  if (differs.length === 0) return { module: entry.name, status: 'kept', file, message: 'an index.json that agrees with manifest.json is already there' };
  return { module: entry.name, status: 'conflict', file, message: `an index.json is already there and differs in ${differs.join(', ')}; left as it is` };
}

function differingFields(entry: LegacyEntry, m: ModuleManifest): string[] {
  const out: string[] = [];
  if (m.metadata.schema_version !== entry.version) out.push(`schema_version (${m.metadata.schema_version} ≠ ${entry.version ?? 'none'})`);
  if (m.metadata.enabled !== entry.enabled) out.push('enabled');
  if (m.metadata.description !== (entry.description ?? '')) out.push('description');
  return out;
}

/** The report as lines for a terminal: one per entry, then where the manifest is. */
export function formatMigrateReport(r: MigrateReport): string {
  const rows = r.entries.map((e) => `${e.module.padEnd(24)} ${e.status.padEnd(9)} ${e.message ?? (e.checksum === 'updated' ? 'checksum in manifest.json updated' : '')}`.trimEnd());
  const errors = r.errors.map((e) => `error: ${e.message}`);
  return `${[`manifest: ${r.manifest}`, ...rows, ...errors].join('\n')}\n`;
}
