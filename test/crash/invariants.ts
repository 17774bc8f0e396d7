/**
 * What must hold after any crash: each live module is one complete version (old or new), the global index
 * parses and claims only versions that exist, and no temp link hides a module.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { liveTargets } from '../helpers/install-root.js';

export interface Expectation {
  /** Per module, the versions it may have after the crash (old, new). */
  allowed: Record<string, readonly string[]>;
  /** Versions the index may still claim (default: `allowed`): ones that were live just before the crash. */
  indexAllowed?: Record<string, readonly string[]>;
}

/** Returns the problems found; empty when every invariant holds. */
export function checkInstall(installRoot: string, e: Expectation): string[] {
  const problems: string[] = [];
  const live = liveTargets(installRoot);
  for (const [name, versions] of Object.entries(e.allowed)) {
    const target = live[name];
    if (target === undefined) {
      if (!versions.includes('absent')) problems.push(`${name}: no live version`);
      continue;
    }
    const dir = path.join(installRoot, 'modules', name);
    if (!existsSync(path.join(dir, '.updates', 'install.json')) || !existsSync(path.join(dir, '.updates', 'bundle.cjs'))) {
      problems.push(`${name}: live folder ${target} is incomplete`);
      continue;
    }
    const v = (JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as { metadata: { schema_version: string } }).metadata.schema_version;
    if (!versions.includes(v)) problems.push(`${name}: live version ${v}, expected one of ${versions.join(', ')}`);
  }
  const indexFile = path.join(installRoot, 'index.json');
  if (existsSync(indexFile)) {
    try {
      const idx = JSON.parse(readFileSync(indexFile, 'utf8')) as { packages?: Record<string, string> };
      for (const [name, v] of Object.entries(idx.packages ?? {})) {
        if (!((e.indexAllowed ?? e.allowed)[name] ?? []).includes(v)) problems.push(`index claims ${name} ${v}, which was never live`);
      }
    } catch (err) {
      problems.push(`index.json does not parse: ${(err as Error).message}`);
    }
  }
  const hidden = existsSync(path.join(installRoot, 'modules')) ? readdirSync(path.join(installRoot, 'modules')).filter((n) => n.startsWith('.')) : [];
  if (hidden.length > 0 && Object.keys(live).length < Object.keys(e.allowed).length) problems.push(`temp links left where modules are missing: ${hidden.join(', ')}`);
  return problems;
}

/** After the converging rerun: the index equals what is live, exactly. */
export function indexMatchesLive(installRoot: string): string[] {
  const idx = JSON.parse(readFileSync(path.join(installRoot, 'index.json'), 'utf8')) as { packages: Record<string, string> };
  const problems: string[] = [];
  const live = liveTargets(installRoot);
  for (const name of Object.keys(live)) {
    const v = (JSON.parse(readFileSync(path.join(installRoot, 'modules', name, 'index.json'), 'utf8')) as { metadata: { schema_version: string } }).metadata.schema_version;
    if (idx.packages[name] !== v) problems.push(`index says ${name} ${idx.packages[name] ?? '(none)'}, live is ${v}`);
  }
  for (const name of Object.keys(idx.packages)) if (live[name] === undefined) problems.push(`index lists ${name}, which is not installed`);
  return problems;
}
