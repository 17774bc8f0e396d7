/**
 * Git operations that talk to the remote (fetch, ls-remote), bounded in time. git runs as the leader of its
 * own process group, so a timeout ends it together with the helpers it started (`git remote-http`, ssh), and
 * no orphan keeps a dead connection open after the run.
 */
import { spawn } from 'node:child_process';
import { DEFAULTS } from '../core/defaults.js';
import { killGroup } from '../core/process-group.js';
import { GIT_ENV } from './git.js';

/** The remote did not finish within the deadline. */
export class GitTimeoutError extends Error {
  constructor(readonly seconds: number) {
    super(`the remote did not answer within ${seconds} s (fetch_timeout in config.json)`);
  }
}

export interface NetOptions {
  /** Deadline of the whole operation, ms. */
  timeoutMs?: number;
  /** Aborting ends git's process group at once. */
  signal?: AbortSignal;
}

/** Runs `git <args>` in `cwd` against the network; resolves with its stdout, rejects with its stderr's message. */
export function gitNetwork(cwd: string, args: readonly string[], o: NetOptions = {}): Promise<string> {
  const timeoutMs = o.timeoutMs ?? DEFAULTS.fetchTimeoutMs;
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  // http(s): curl gives up on a connection that moves under 1 KB/s for the whole deadline.
  const lowSpeed = ['-c', 'http.lowSpeedLimit=1000', '-c', `http.lowSpeedTime=${seconds}`];
  return new Promise((resolve, reject) => {
    const child = spawn('git', [...lowSpeed, ...args], { cwd, env: GIT_ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-8192)));
    const stop = () => killGroup(child.pid);
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, timeoutMs);
    o.signal?.addEventListener('abort', stop, { once: true });
    const done = () => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', stop);
      // Helpers that outlived git itself go with it.
      killGroup(child.pid);
    };
    child.on('error', (err) => {
      done();
      reject(err);
    });
    child.on('close', (code) => {
      done();
      if (timedOut) reject(new GitTimeoutError(seconds));
      else if (code === 0) resolve(stdout);
      else reject(new Error(stderr.trim() || `git ${args[0] ?? ''} exited with ${code ?? 'a signal'}`));
    });
  });
}
