// Runs a command without a shell in its own process group (and PID namespace), with a deadline, capped output
// and a bare environment.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { constants as osConstants } from 'node:os';
import { killGroup } from '../core/process-group.js';
import type { ExecResult } from '../sdk/protocol.js';
import { DEFAULTS } from '../core/defaults.js';

/** The only environment a command gets: a PATH, nothing of the orchestrator's own (no secrets, no NODE_OPTIONS). */
export const EXEC_ENV = Object.freeze({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' });

/** How to run one command. */
export interface RunOptions {
  input?: string;
  timeoutMs: number;
  /** Captured bytes per stream; the rest is read and dropped. */
  maxOutputBytes: number;
  /** Aborting kills the process group (the broker aborts when the run ends). */
  signal?: AbortSignal;
}

/** What the caller learns beyond the module-visible result. */
export interface RunOutcome extends ExecResult {
  truncated: boolean;
}

/** Collects a stream up to `max` bytes, keeps reading (so the child never blocks on a full pipe) and drops the rest. */
function capture(stream: NodeJS.ReadableStream, max: number): { text: () => string; truncated: () => boolean } {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  stream.on('data', (chunk: Buffer) => {
    const room = max - size;
    if (room <= 0) {
      over = true;
      return;
    }
    if (chunk.length > room) over = true;
    const part = chunk.subarray(0, room);
    chunks.push(part);
    size += part.length;
  });
  return { text: () => Buffer.concat(chunks).toString('utf8'), truncated: () => over };
}

/** How long the output pipes may stay open after the command exited (a daemon that kept them is killed by then). */
const DRAIN_MS = DEFAULTS.execDrainMs;

let pidNamespaces: boolean | undefined;
/**
 * Whether commands can run in a PID namespace of their own (root with util-linux's unshare). In one, every
 * descendant dies with the command's first process, even one that left the process group with setsid.
 */
function canUsePidNamespace(): boolean {
  if (pidNamespaces === undefined) {
    const probe = spawnSync('unshare', ['--pid', '--fork', '--kill-child', '--', 'true'], { env: { ...EXEC_ENV }, stdio: 'ignore', timeout: 5000 });
    pidNamespaces = probe.status === 0;
  }
  return pidNamespaces;
}

/** argv[0] as a path, looked up in EXEC_ENV's PATH; undefined when there is no such executable. */
function resolveProgram(file: string): string | undefined {
  const candidates = file.includes('/') ? [file] : EXEC_ENV.PATH.split(':').map((d) => path.join(d, file));
  for (const c of candidates) {
    try {
      accessSync(c, fsConstants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * Runs argv[0] with argv[1..] (no shell). The child leads a new process group (detached), so the deadline,
 * an abort, and the child's own exit all end with SIGKILL to the whole group: background children of the
 * command never outlive it. Rejects only when the program cannot be started.
 */
export function runCommand(argv: readonly string[], opts: RunOptions): Promise<RunOutcome> {
  const [file = '', ...args] = argv;
  return new Promise((resolve, reject) => {
    const program = resolveProgram(file);
    if (program === undefined) {
      reject(Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' }));
      return;
    }
    const [cmd, cmdArgs] = canUsePidNamespace() ? ['unshare', ['--pid', '--fork', '--kill-child', '--', program, ...args]] : [program, args];
    const child = spawn(cmd, cmdArgs, { shell: false, detached: true, env: { ...EXEC_ENV }, cwd: '/', stdio: 'pipe' });
    const out = capture(child.stdout, opts.maxOutputBytes);
    const err = capture(child.stderr, opts.maxOutputBytes);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, opts.timeoutMs);
    const onAbort = (): void => killGroup(child.pid);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.signal?.aborted === true) onAbort();
    child.on('error', (e) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    // Settle on 'exit', not 'close': a process that inherited the pipes could hold 'close' back for ever.
    child.on('exit', (code, signal) => {
      killGroup(child.pid);
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const exitCode = code ?? 128 + (signal === null ? 0 : osConstants.signals[signal]);
      const finish = (): void => {
        child.stdout.destroy();
        child.stderr.destroy();
        resolve({ exitCode, stdout: out.text(), stderr: err.text(), timedOut, truncated: out.truncated() || err.truncated() });
      };
      const drain = setTimeout(finish, DRAIN_MS);
      child.on('close', () => {
        clearTimeout(drain);
        finish();
      });
    });
    child.stdin.on('error', () => undefined); // EPIPE when the command does not read its input
    child.stdin.end(opts.input ?? '');
  });
}
