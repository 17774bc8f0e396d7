/**
 * The global index.json (the seed's format: metadata + packages). It is a cache derived from what is really
 * live, written atomically, so after any crash it never claims a version that is not installed. Fields it does
 * not own are kept as they are.
 */
import { promises as fsp } from 'node:fs';
import { writeJsonAtomic } from '../core/fs-atomic.js';
import type { AtomicWriteOptions } from '../core/fs-atomic.js';
import type { InstalledModule } from './installed.js';
import type { Layout } from './layout.js';

export interface GlobalIndex {
  metadata: { schema_version: string; channel: string; [k: string]: unknown };
  packages: Record<string, string>;
  [k: string]: unknown;
}

/** Reads the global index, or undefined when it is missing or not JSON. */
export async function readGlobalIndex(layout: Layout): Promise<Record<string, unknown> | undefined> {
  try {
    const v: unknown = JSON.parse(await fsp.readFile(layout.globalIndex, 'utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The index for what is installed, keeping every other field of `previous`. */
export function deriveGlobalIndex(
  installed: readonly Pick<InstalledModule, 'name' | 'version'>[],
  previous: Record<string, unknown> | undefined,
  meta: { orchestratorVersion: string; channel?: string },
): GlobalIndex {
  const prevMeta = (previous?.['metadata'] ?? {}) as Record<string, unknown>;
  const packages: Record<string, string> = {};
  for (const m of installed) if (m.version !== undefined) packages[m.name] = m.version;
  const channel = meta.channel ?? (typeof prevMeta['channel'] === 'string' ? prevMeta['channel'] : 'stable');
  return {
    ...previous,
    metadata: { ...prevMeta, schema_version: meta.orchestratorVersion, channel },
    packages,
  };
}

/** Writes the index atomically when it differs from what is on disk (durably unless told not to). Returns whether it wrote. */
export async function writeGlobalIndex(layout: Layout, index: GlobalIndex, options: AtomicWriteOptions = {}): Promise<boolean> {
  const text = `${JSON.stringify(index, null, 2)}\n`;
  const current = await fsp.readFile(layout.globalIndex, 'utf8').catch(() => undefined);
  if (current === text) return false;
  await writeJsonAtomic(layout.globalIndex, index, options);
  return true;
}
