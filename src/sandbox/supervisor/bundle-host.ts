// Bundles the sandbox process's code (host entry, piscina's worker, the module worker) into a private temp folder.
import { chmodSync, copyFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { BuildOptions } from 'esbuild';
import { codeDir, codeFile, fromSource, packagePath } from '../../core/package-root.js';
import { esbuildApi } from '../build/esbuild-api.js';

/** The bundled files of one sandbox process; `dir` is the only folder it may read. */
export interface HostBundle {
  dir: string;
  hostFile: string;
  workerFile: string;
  /** Removes the folder. */
  remove(): Promise<void>;
}

/** Source entries in the package: .ts from source (tests, tsx), .js once compiled to dist/ (or bundled). */
const HOST_ENTRY = codeFile('sandbox/process/entry');
/** The module worker; tests substitute a probe entry to test the process's own limits. */
export const MODULE_WORKER_ENTRY = codeFile('sandbox/worker/worker');
/** piscina starts every worker on `<its __dirname>/worker.js`, which it then points at our worker file. */
const PISCINA_WORKER = path.join(path.dirname(createRequire(packagePath('package.json')).resolve('piscina')), 'worker.js');

/** esbuild options shared by the three bundles: one CommonJS file each, nothing left to resolve at run time. */
const COMMON: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  write: false,
  legalComments: 'none',
  logLevel: 'silent',
  // Optional native addon piscina loads only for niceIncrement, which the pool does not use.
  external: ['@napi-rs/nice'],
};

/** The three bundles, built once by `npm run build` (scripts/prebuild-sandbox.mjs) beside the compiled code. */
export const PREBUILT_DIR = `${codeDir('sandbox/supervisor/prebuilt')}/`;
const BUNDLE_FILES = { host: 'host.cjs', piscina: 'worker.js', module: 'module-worker.cjs' } as const;

async function bundleTo(entry: string, outFile: string): Promise<void> {
  // Only without the prebuilt bundles (from source, or a test's worker entry): esbuild loads on demand.
  const { build } = esbuildApi();
  const result = await build({ ...COMMON, entryPoints: [entry] });
  const text = result.outputFiles?.[0]?.text;
  if (text === undefined) throw new Error(`esbuild produced nothing for ${entry}`);
  // Root-owned, read-only for everyone: the sandbox user may read and run it, never change it.
  writeReadable(outFile, text);
}

/** Writes `text` as a new file of mode 0644 whatever the umask (under `umask 077` the sandbox user must still read it). */
function writeReadable(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o644, flag: 'wx' });
  chmodSync(file, 0o644);
}

/** Writes the three bundles into `dir` (the build's prebuilt folder). */
export async function prebuildHost(dir: string = PREBUILT_DIR): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await Promise.all([
    bundleTo(HOST_ENTRY, path.join(dir, BUNDLE_FILES.host)),
    bundleTo(PISCINA_WORKER, path.join(dir, BUNDLE_FILES.piscina)),
    bundleTo(MODULE_WORKER_ENTRY, path.join(dir, BUNDLE_FILES.module)),
  ]);
}

/** Whether the compiled code has its prebuilt bundles (not from source, not with a test's worker entry). */
function prebuiltUsable(moduleWorkerEntry: string): boolean {
  if (fromSource() || moduleWorkerEntry !== MODULE_WORKER_ENTRY) return false;
  return Object.values(BUNDLE_FILES).every((f) => existsSync(path.join(PREBUILT_DIR, f)));
}

/**
 * Bundles the sandbox process into a new temp folder (0755, root-owned, files 0644), so that neither the
 * project's folder, its node_modules nor tsx must be readable by the sandbox user: the process's permission
 * model grants read access to this folder only.
 */
export async function bundleHost(moduleWorkerEntry: string = MODULE_WORKER_ENTRY): Promise<HostBundle> {
  // Named after this pid, so a later run can tell a crashed orchestrator's folder (see leftovers.ts).
  const dir = mkdtempSync(path.join(os.tmpdir(), `updates-sandbox-${process.pid}-`));
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    // The folder and its copies are made with direct system calls, not through the thread pool: a run waits for
    // them before the sandbox process can start, and a round trip per call there costs more than the calls.
    chmodSync(dir, 0o755);
    const hostFile = path.join(dir, BUNDLE_FILES.host);
    const workerFile = path.join(dir, BUNDLE_FILES.module);
    // A package.json here ends Node's lookup of the package scope inside the granted folder.
    writeReadable(path.join(dir, 'package.json'), '{"type":"commonjs"}\n');
    if (prebuiltUsable(moduleWorkerEntry)) {
      // Copies of what the build bundled: the same files, without esbuild's time at every run.
      for (const f of Object.values(BUNDLE_FILES)) {
        copyFileSync(path.join(PREBUILT_DIR, f), path.join(dir, f));
        chmodSync(path.join(dir, f), 0o644);
      }
    } else {
      await Promise.all([
        bundleTo(HOST_ENTRY, hostFile),
        bundleTo(PISCINA_WORKER, path.join(dir, BUNDLE_FILES.piscina)),
        bundleTo(moduleWorkerEntry, workerFile),
      ]);
    }
    return { dir, hostFile, workerFile, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
