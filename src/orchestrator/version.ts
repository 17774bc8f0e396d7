/**
 * The orchestrator's one version: the root index.json's `metadata.schema_version` (what triggers a
 * self-update). package.json's `version` must equal it; a package whose two disagree is refused.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../core/package-root.js';

let cached: string | undefined;

/** The versions a package folder declares: its root index.json's schema_version and its package.json's version. */
export function declaredVersions(dir: string): { index?: string; pkg?: string } {
  const read = (file: string): unknown => {
    try {
      return JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    } catch {
      return undefined;
    }
  };
  const idx = read('index.json') as { metadata?: { schema_version?: unknown } } | undefined;
  const pkg = read('package.json') as { version?: unknown } | undefined;
  const index = idx?.metadata?.schema_version;
  return { ...(typeof index === 'string' ? { index } : {}), ...(typeof pkg?.version === 'string' ? { pkg: pkg.version } : {}) };
}

/**
 * Why the package in `dir` has no single version, naming the file to fix; undefined when index.json and
 * package.json agree.
 */
export function versionMismatch(dir: string): string | undefined {
  const { index, pkg } = declaredVersions(dir);
  if (index === undefined) return `index.json has no metadata.schema_version (the orchestrator's version); add it to ${path.join(dir, 'index.json')}`;
  if (pkg !== index) {
    return `package.json has version ${pkg ?? '(none)'} but index.json's metadata.schema_version, the orchestrator's version, is ${index}; set "version": "${index}" in package.json`;
  }
  return undefined;
}

/** The running orchestrator's version (its root index.json's schema_version). */
export function orchestratorVersion(): string {
  if (cached === undefined) {
    const { index, pkg } = declaredVersions(packageRoot());
    cached = index ?? pkg ?? '0.0.0';
  }
  return cached;
}

/** Why this orchestrator's own package has no single version, or undefined. */
export function ownVersionMismatch(): string | undefined {
  return versionMismatch(packageRoot());
}
