// A local user racing the broker: a separate process running as an unprivileged user that swaps a folder for a
// symlink (and back) as fast as it can, until stopped.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/** uid and gid of "nobody": the racer's identity. */
export const NOBODY = 65534;

/**
 * The racer's loop: `<dir>/<name>` is moved aside, a symlink to `target` takes its place, then the real entry comes
 * back. Every step may fail (the broker may hold or remove the name); it simply tries again.
 */
const SCRIPT = String.raw`
const fs = require('node:fs');
const [dir, name, target] = process.argv.slice(1);
const p = dir + '/' + name, real = dir + '/.' + name + '-real', tmp = dir + '/.' + name + '-tmp';
let said = false;
for (;;) {
  try { fs.renameSync(p, real); } catch {}
  try { fs.symlinkSync(target, tmp); fs.renameSync(tmp, p); } catch { try { fs.unlinkSync(tmp); } catch {} }
  if (!said) { said = true; process.stdout.write('ready\n'); }
  try { fs.renameSync(real, p); } catch {}
}
`;

/** A running racer. */
export interface Racer {
  /** Resolves once the racer has made its first swap. */
  ready: Promise<void>;
  /** Kills the racer (by its pid) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts a racer as `uid` (default nobody) swapping `<dir>/<name>` with a symlink to `target`. */
export function startRacer(dir: string, name: string, target: string, uid = NOBODY): Racer {
  const child: ChildProcess = spawn(process.execPath, ['-e', SCRIPT, dir, name, target], { uid, gid: uid, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the racer exited early (code ${code ?? 'none'})`)));
  });
  ready.catch(() => undefined);
  return {
    ready,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
