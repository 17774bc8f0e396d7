/**
 * Packs this project once per test process, as a release would be made: the project's files (no `dist/`) are
 * copied to a temporary folder with this checkout's `node_modules` linked in, and `npm pack` there runs the
 * `prepack` build. Packing in a copy leaves this checkout's `dist/`, which other tests run, untouched. Then the
 * tarball is installed into a temporary global prefix, as a sysadmin would; the tests of the installed product
 * share the result.
 */
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/repo.js';
import { PROJECT } from '../helpers/run.js';

const exec = promisify(execFile);
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
/** Top-level entries of the checkout that are not part of its sources. */
const NOT_SOURCES = new Set(['node_modules', 'dist', '.git', '.demo']);

export interface Packed { tarball: string; version: string; builtIn: string }
export interface Installed extends Packed { prefix: string; bin: string; packageDir: string }

/** Runs npm with a generous deadline (installs on a loaded 2-core machine), returning stdout. */
export async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await exec('npm', [...args, ...NPM_FLAGS], { cwd, timeout: 900_000, maxBuffer: 64 * 2 ** 20 });
  return stdout;
}

let packed: Promise<Packed> | undefined;
/** The tarball of this checkout's sources, built by its own prepack script. */
export function pack(): Promise<Packed> {
  packed ??= (async () => {
    const src = path.join(tempDir('uo-src'), 'updates-orchestrator');
    cpSync(PROJECT, src, { recursive: true, filter: (from) => path.dirname(from) !== PROJECT || !NOT_SOURCES.has(path.basename(from)) });
    symlinkSync(path.join(PROJECT, 'node_modules'), path.join(src, 'node_modules'));
    if (existsSync(path.join(src, 'dist'))) throw new Error('the copy has a dist/ before packing');
    const dir = tempDir('uo-pack');
    const out = await npm(['pack', '--json', '--pack-destination', dir], src);
    const info = (JSON.parse(out.slice(out.indexOf('['))) as { filename: string }[])[0];
    if (info === undefined) throw new Error(`npm pack printed no file: ${out}`);
    const { version } = JSON.parse(readFileSync(path.join(PROJECT, 'package.json'), 'utf8')) as { version: string };
    return { tarball: path.join(dir, info.filename), version, builtIn: src };
  })();
  return packed;
}

let installed: Promise<Installed> | undefined;
/** The tarball installed with `npm install -g --prefix <tmp>` (production dependencies only, as -g does). */
export function installGlobally(): Promise<Installed> {
  installed ??= (async () => {
    const p = await pack();
    const prefix = tempDir('uo-prefix');
    // The sandbox user runs the installed node code: the prefix must be readable by others, as /usr/local is.
    chmodSync(prefix, 0o755);
    await npm(['install', '-g', '--prefix', prefix, p.tarball], tempDir('uo-cwd'));
    return { ...p, prefix, bin: path.join(prefix, 'bin', 'updates'), packageDir: path.join(prefix, 'lib', 'node_modules', 'updates-orchestrator') };
  })();
  return installed;
}
