/**
 * Runs a staged release's own code (its sandbox build step and its self-test) without root: as the sandbox
 * user, with an empty environment, in a process group of its own. The release folder stays root-owned; the
 * one folder the build writes is lent to the sandbox user for the step, then taken back and checked.
 *
 * When the orchestrator is not root there is no one to switch to: the steps run as the current user, still
 * with an empty environment. As root they never run as root: without a sandbox user able to read the release
 * folder, the self-update is refused.
 */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DEFAULTS } from '../core/defaults.js';
import { errnoCode } from '../core/errno.js';
import { messageOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { killGroup } from '../core/process-group.js';
import { resolveSandboxUser } from '../sandbox/supervisor/sandbox-user.js';
import type { SandboxUser } from '../sandbox/supervisor/sandbox-user.js';

export interface StepResult { code: number; stdout: string; stderr: string }

/** Who runs a release's code, and how. */
export interface ReleaseRunner {
  /** The sandbox user, or undefined when the steps run as the orchestrator's own user. */
  user: SandboxUser | undefined;
  /** Runs `node <args>` in `cwd`, as that user, with an empty environment. `writable` folders are lent for the run. */
  node(args: string[], cwd: string, timeoutMs: number, writable?: readonly string[]): Promise<StepResult>;
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** Runs `file` detached, with an empty environment; its whole process group is killed when it ends or times out. */
function exec(file: string, args: string[], cwd: string, timeoutMs: number, user: SandboxUser | undefined): Promise<StepResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, env: {}, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...(user ? { uid: user.uid, gid: user.gid } : {}) });
    let stdout = '';
    let stderr = '';
    const cap = (s: string, d: Buffer): string => (s.length < DEFAULTS.releaseStepOutputBytes ? s + d.toString() : s);
    child.stdout.on('data', (d: Buffer) => (stdout = cap(stdout, d)));
    child.stderr.on('data', (d: Buffer) => (stderr = cap(stderr, d)));
    const timer = setTimeout(() => killGroup(child.pid), timeoutMs);
    const done = (code: number): void => {
      clearTimeout(timer);
      // Nothing the release's code started may outlive the step.
      killGroup(child.pid);
      resolve({ code, stdout, stderr });
    };
    child.on('error', (err) => done(errnoCode(err) === 'ENOENT' ? 127 : 1));
    child.on('close', (code) => done(code ?? 1));
  });
}

/** Whether `user` can read the release's launcher (every folder above it must let others through). */
async function canRead(user: SandboxUser, staging: string): Promise<boolean> {
  const probe = `require('fs').accessSync(${JSON.stringify(path.join(staging, 'bin', 'updates.js'))}, require('fs').constants.R_OK)`;
  return (await exec(process.execPath, ['-e', probe], '/', DEFAULTS.sandboxStartTimeoutMs, user)).code === 0;
}

/**
 * Gives `dir` and everything under it back to root, top-down: a folder is root's (and closed to others'
 * writes) before its entries are looked at, so none can be swapped meanwhile. Anything but plain files and
 * folders (a symlink, a hard link that would lend the chmod to a file elsewhere, a FIFO...) is refused.
 */
async function reclaim(dir: string, top = dir): Promise<void> {
  await fsp.lchown(dir, 0, 0);
  await fsp.chmod(dir, 0o755);
  for (const name of await fsp.readdir(dir)) {
    const p = path.join(dir, name);
    const st = await fsp.lstat(p);
    if (st.isDirectory()) {
      await reclaim(p, top);
      continue;
    }
    if (!st.isFile() || st.nlink !== 1) {
      await fsp.rm(p, { force: true });
      throw new Error(`the build left ${path.relative(top, p)}, which is not a plain file`);
    }
    await fsp.lchown(p, 0, 0);
    await fsp.chmod(p, 0o644);
  }
}

/**
 * Chooses who runs the release at `staging`'s code. As root it is always the sandbox user: when there is none,
 * or it cannot read the release folder, the self-update is refused (the release's code never runs as root
 * before it is made current), with what to change.
 */
export async function releaseRunner(staging: string, logger: Logger): Promise<ReleaseRunner> {
  let user: SandboxUser | undefined;
  if (isRoot()) {
    try {
      user = await resolveSandboxUser();
    } catch (err) {
      throw new Error(`the release's build and self-test run as the sandbox user, and there is none (${messageOf(err)}); create the user updates-sandbox (useradd --system updates-sandbox)`);
    }
    if (!(await canRead(user, staging))) {
      throw new Error(`the release's build and self-test run as the sandbox user "${user.name}", who cannot read ${staging}: a folder above it is closed to other users; let others pass through it (chmod o+x on each folder above the install root)`);
    }
  } else {
    logger.debug("self-update: not root; the release's build and self-test run as this user, with an empty environment");
  }
  return {
    user,
    async node(args, cwd, timeoutMs, writable = []) {
      if (user !== undefined) {
        for (const dir of writable) {
          await fsp.mkdir(dir, { recursive: true });
          await fsp.lchown(dir, user.uid, user.gid);
        }
      }
      try {
        return await exec(process.execPath, args, cwd, timeoutMs, user);
      } finally {
        if (user !== undefined) for (const dir of writable) await reclaim(dir);
      }
    },
  };
}
