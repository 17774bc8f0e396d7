// A compiled copy of src/ in a temp dir, as production runs it (dist/*.js, the pool loading worker.js directly
// rather than worker-dev.mjs + tsx). Transpiled file by file with esbuild (the project builds with
// isolatedModules, so per-file transpiling is faithful); node_modules is a symlink to the project's.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transform } from 'esbuild';
import type { RunConfig } from '../../src/orchestrator/run.js';
import type { RunReport } from '../../src/orchestrator/report.js';
import type { Phase2Options } from '../../src/orchestrator/phase2.js';
import type { SandboxPool, SandboxPoolOptions } from '../../src/sandbox/pool.js';
import type { BuildModule } from '../../src/orchestrator/install.js';
import { tempDir } from './util.js';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Compiled {
  root: string;
  SandboxPool: new (options: SandboxPoolOptions) => SandboxPool;
  performRun: (cfg: RunConfig) => Promise<RunReport>;
  createPhase2: (options: Phase2Options) => RunConfig['phase2'];
  bundleModule: BuildModule;
}

async function transpileTree(from: string, to: string): Promise<number> {
  mkdirSync(to, { recursive: true });
  let files = 0;
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    if (entry.isDirectory()) files += await transpileTree(src, path.join(to, entry.name));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const out = await transform(readFileSync(src, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20', sourcefile: src });
      writeFileSync(path.join(to, entry.name.replace(/\.ts$/, '.js')), out.code);
      files++;
    } else if (entry.name.endsWith('.js') || entry.name.endsWith('.mjs') || entry.name.endsWith('.json')) {
      copyFileSync(src, path.join(to, entry.name));
    }
  }
  return files;
}

/** Compiles src/ into a temp dir and imports the entry points the bench needs from there. */
export async function loadCompiled(): Promise<Compiled> {
  const root = tempDir('compiled');
  await transpileTree(path.join(PROJECT, 'src'), path.join(root, 'dist'));
  copyFileSync(path.join(PROJECT, 'package.json'), path.join(root, 'package.json'));
  symlinkSync(path.join(PROJECT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  const load = <T>(rel: string): Promise<T> => import(pathToFileURL(path.join(root, 'dist', rel)).href) as Promise<T>;
  const [pool, run, phase2, bundle] = await Promise.all([
    load<{ SandboxPool: Compiled['SandboxPool'] }>('sandbox/pool.js'),
    load<{ performRun: Compiled['performRun'] }>('orchestrator/run.js'),
    load<{ createPhase2: Compiled['createPhase2'] }>('orchestrator/phase2.js'),
    load<{ bundleModule: BuildModule }>('sandbox/bundle.js'),
  ]);
  return { root, SandboxPool: pool.SandboxPool, performRun: run.performRun, createPhase2: phase2.createPhase2, bundleModule: bundle.bundleModule };
}
