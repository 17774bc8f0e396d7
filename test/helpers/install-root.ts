/**
 * Test helpers to look at an install root: link targets, the global index, a fingerprint of the whole tree.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** modules/<name> → link target, for every live module. */
export function liveTargets(installRoot: string): Record<string, string> {
  const dir = path.join(installRoot, 'modules');
  const out: Record<string, string> = {};
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => !n.startsWith('.'));
  } catch {
    return out;
  }
  for (const n of names.sort()) out[n] = readlinkSync(path.join(dir, n));
  return out;
}

/** The version each live module's own index.json declares. */
export function liveVersions(installRoot: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(liveTargets(installRoot))) {
    const m = JSON.parse(readFileSync(path.join(installRoot, 'modules', name, 'index.json'), 'utf8')) as { metadata: { schema_version: string } };
    out[name] = m.metadata.schema_version;
  }
  return out;
}

export function globalPackages(installRoot: string): Record<string, string> {
  const idx = JSON.parse(readFileSync(path.join(installRoot, 'index.json'), 'utf8')) as { packages: Record<string, string> };
  return idx.packages;
}

/** A hash of every path, link target and file content under `dir` (state/ and metrics/ excluded unless asked). */
/** A hash of every name, mode and content under `dir`; `except` lists paths (relative to `dir`) left out. */
export function fingerprint(dir: string, options: { includeState?: boolean; except?: readonly string[]; skip?: (rel: string) => boolean } = {}): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e);
      const rel = path.relative(dir, p);
      if (!options.includeState && (rel === 'state' || rel === 'metrics')) continue;
      if (options.except?.includes(rel) === true || options.skip?.(rel) === true) continue;
      const st = lstatSync(p);
      h.update(`${rel}\0${st.mode}\0`);
      if (st.isSymbolicLink()) h.update(readlinkSync(p));
      else if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}
