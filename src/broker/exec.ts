// Runs a command without a shell in its own process group, with a deadline, capped output and a bare environment.
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { ExecResult } from '../sdk/protocol.js';

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

/** Kills a whole process group; a group that is already gone is fine. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left in the group
  }
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

/**
 * Runs argv[0] with argv[1..] (no shell). The child leads a new process group (detached), so the deadline,
 * an abort, and the child's own exit all end with SIGKILL to the whole group: background children of the
 * command never outlive it. Rejects only when the program cannot be started.
 */
export function runCommand(argv: readonly string[], opts: RunOptions): Promise<RunOutcome> {
  const [file, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(file ?? '', args, { shell: false, detached: true, env: { ...EXEC_ENV }, cwd: '/', stdio: 'pipe' });
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
    child.on('exit', () => killGroup(child.pid));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const exitCode = code ?? 128 + (signal === null ? 0 : osConstants.signals[signal]);
      resolve({ exitCode, stdout: out.text(), stderr: err.text(), timedOut, truncated: out.truncated() || err.truncated() });
    });
    child.stdin.on('error', () => undefined); // EPIPE when the command does not read its input
    child.stdin.end(opts.input ?? '');
  });
}
