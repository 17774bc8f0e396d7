/**
 * Test helpers to run the orchestrator: in-process (performRun) and as the real CLI in a child process.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/core/logger.js';
import { performRun } from '../../src/orchestrator/run.js';
import type { RunConfig } from '../../src/orchestrator/run.js';
import type { RunReport } from '../../src/orchestrator/report.js';
import { orchestratorVersion } from '../../src/orchestrator/version.js';
import { bundleModule } from '../../src/sandbox/build/bundle.js';

export const PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(PROJECT, 'bin', 'updates.js');

/** Runs Phase 1 (and Phase 2 when given) in this process. */
export function runPhase1Only(installRoot: string, url: string, extra: Partial<RunConfig> = {}): Promise<RunReport> {
  return performRun({
    repoUrl: url,
    branch: 'main',
    installRoot,
    root: '/',
    checkOnly: false,
    wait: false,
    orchestratorVersion: orchestratorVersion(),
    build: bundleModule,
    logger: silentLogger(),
    ...extra,
  });
}

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Options of runCli/runNode (`cwd`: default the project); `onStderr` sees the child's stderr as it comes (to synchronise on a log line). */
export interface RunNodeOptions { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; onStderr?: (text: string) => void; onSpawn?: (child: ChildProcess) => void }

/** Runs `node bin/updates.js ...args` and collects its output. */
export function runCli(args: string[], options: RunNodeOptions = {}): Promise<CliResult> {
  return runNode([BIN, ...args], options);
}

/** Runs node with the given arguments (tsx registered) and collects its output. */
export function runNode(args: string[], options: RunNodeOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      // `--import tsx` resolves from here: a cwd of its own needs tsx in its node_modules
      cwd: options.cwd ?? PROJECT,
      env: { ...process.env, UPDATES_LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    options.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.onStderr?.(stderr);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
