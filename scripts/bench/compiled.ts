// The compiled orchestrator, as production runs it: dist/*.js from the project's own build, the pool loading
// worker.js directly rather than worker-dev.mjs + tsx.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RunConfig } from '../../src/orchestrator/run.js';
import type { RunReport } from '../../src/orchestrator/report.js';
import type { Phase2Options } from '../../src/orchestrator/phase2.js';
import type { SandboxPool, SandboxPoolOptions } from '../../src/sandbox/supervisor/pool.js';
import type { BuildModule } from '../../src/orchestrator/install.js';

const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Compiled {
  root: string;
  SandboxPool: new (options: SandboxPoolOptions) => SandboxPool;
  performRun: (cfg: RunConfig) => Promise<RunReport>;
  createPhase2: (options: Phase2Options) => RunConfig['phase2'];
  bundleModule: BuildModule;
}

/**
 * Builds dist/ with the project's own build (`npm run build`, what production runs) and imports the entry
 * points the bench needs from there.
 */
export async function loadCompiled(): Promise<Compiled> {
  execFileSync(process.execPath, [path.join(PROJECT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: PROJECT, stdio: 'inherit' });
  const root = PROJECT;
  const load = <T>(rel: string): Promise<T> => import(pathToFileURL(path.join(root, 'dist', rel)).href) as Promise<T>;
  const [pool, run, phase2, bundle] = await Promise.all([
    load<{ SandboxPool: Compiled['SandboxPool'] }>('sandbox/supervisor/pool.js'),
    load<{ performRun: Compiled['performRun'] }>('orchestrator/run.js'),
    load<{ createPhase2: Compiled['createPhase2'] }>('orchestrator/phase2.js'),
    load<{ bundleModule: BuildModule }>('sandbox/build/bundle.js'),
  ]);
  return { root, SandboxPool: pool.SandboxPool, performRun: run.performRun, createPhase2: phase2.createPhase2, bundleModule: bundle.bundleModule };
}
