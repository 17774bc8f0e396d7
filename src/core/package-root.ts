/**
 * The orchestrator's package folder (package.json, bin/, dist/ or src/, node_modules/) and the paths into it.
 * Found once, by walking up from this file to the package.json named updates-orchestrator: this file sits in
 * src/core/ under tsx, in dist/core/ compiled, and in a chunk of dist/bundle/ in the CLI bundle, so no path may
 * be taken relative to the file that needs it. Lazy: nothing is read until a path is asked for.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'updates-orchestrator';

/** Whether this code runs from the TypeScript sources (tsx, tests) rather than compiled or bundled. */
export function fromSource(): boolean {
  return import.meta.url.endsWith('.ts');
}

let cached: string | undefined;

/** The package folder of the running orchestrator (a real path when the code was loaded through one). */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (nameAt(dir) === PACKAGE_NAME) return (cached = dir);
    if (path.dirname(dir) === dir) throw new Error(`no package.json named ${PACKAGE_NAME} in ${start} or a folder above it`);
  }
}

function nameAt(dir: string): unknown {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown }).name;
  } catch {
    return undefined;
  }
}

/** A path inside the package folder. */
export function packagePath(...parts: string[]): string {
  return path.join(packageRoot(), ...parts);
}

/**
 * A path in the code's folder: src/ from source, dist/ compiled (the CLI bundle sits in dist/bundle/, beside the
 * compiled tree it leaves the sandbox's files to). `stem` has no extension: `.ts` or `.js` is added.
 */
export function codeFile(stem: string): string {
  return fromSource() ? packagePath('src', `${stem}.ts`) : packagePath('dist', `${stem}.js`);
}

/** A folder in the code's folder (src/ from source, dist/ compiled). */
export function codeDir(rel: string): string {
  return packagePath(fromSource() ? 'src' : 'dist', rel);
}
