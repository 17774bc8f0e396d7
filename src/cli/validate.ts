/**
 * `updates validate [DIR...]`: the checks Phase 1 applies to a module before it installs it, run on folders on
 * disk, so an author learns of a refused manifest, folder or import before pushing.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { messageOf, UpdatesError } from '../core/errors.js';
import { errnoCode } from '../core/errno.js';
import { MODULE_NAME_RE, parseModuleManifest } from '../core/manifest.js';
import { contentProblem } from '../core/module-content.js';
import type { ContentEntry } from '../core/module-content.js';
import { bundleModule } from '../sandbox/build/bundle.js';

/** Folders that are never part of what a repository carries: run-module's scratch folder. */
const SKIPPED = new Set(['.updates-dev']);

/** One module's verdict: its version when valid, else the first problem found. */
export interface Validation { dir: string; module: string; ok: boolean; version?: string; problem?: string }

/** The module folder's entries, as a commit would hold them (symlinks as links, with their targets). */
async function entriesOf(dir: string, rel = ''): Promise<ContentEntry[]> {
  const out: ContentEntry[] = [];
  for (const d of await fsp.readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel === '' ? d.name : `${rel}/${d.name}`;
    if (rel === '' && SKIPPED.has(d.name)) continue;
    const full = path.join(dir, r);
    if (d.isSymbolicLink()) out.push({ rel: r, size: 0, linkTarget: await fsp.readlink(full) });
    else if (d.isDirectory()) out.push(...(await entriesOf(dir, r)));
    else out.push({ rel: r, size: (await fsp.lstat(full)).size });
  }
  return out;
}

/** Validates one module folder: name, index.json (strict, with did-you-mean), content, imports and bundle. */
export async function validateModule(dir: string): Promise<Validation> {
  const module = path.basename(dir);
  const fail = (problem: string): Validation => ({ dir, module, ok: false, problem });
  if (!MODULE_NAME_RE.test(module)) return fail('the folder name must be lower-case letters, digits, ".", "_" or "-" (at most 64)');
  let text: string;
  try {
    text = await fsp.readFile(path.join(dir, 'index.json'), 'utf8');
  } catch (err) {
    return fail(errnoCode(err) === 'ENOENT' ? 'index.json is missing' : `index.json cannot be read (${errnoCode(err) ?? messageOf(err)})`);
  }
  const parsed = parseModuleManifest(text, module);
  if (!parsed.ok) return fail(`invalid index.json: ${parsed.reason}`);
  const content = contentProblem(await entriesOf(dir));
  if (content !== undefined) return fail(content);
  try {
    await bundleModule(dir, module);
  } catch (err) {
    if (err instanceof UpdatesError && err.code === 'E_BUILD') return fail(`does not build: ${err.details['detail'] ?? err.message}`);
    throw err;
  }
  return { dir, module, ok: true, version: parsed.manifest.metadata.schema_version };
}

/** The folders to validate when none is named: every folder of ./modules, else the current folder. */
export async function defaultDirs(cwd: string): Promise<string[]> {
  const modules = path.join(cwd, 'modules');
  const listed = await fsp.readdir(modules, { withFileTypes: true }).catch(() => undefined);
  if (listed !== undefined) return listed.filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => path.join(modules, d.name)).sort();
  if (await fsp.access(path.join(cwd, 'index.json')).then(() => true, () => false)) return [cwd];
  throw new UpdatesError('E_USAGE', { detail: `${cwd} has neither a modules folder nor an index.json; name the module folders: updates validate DIR...` });
}

/** One line per module: "ok      name 1.0.0" or "invalid name: why". */
export function formatValidation(v: Validation): string {
  return v.ok ? `ok       ${v.module} ${v.version ?? ''}` : `invalid  ${v.module}: ${v.problem ?? ''}`;
}
