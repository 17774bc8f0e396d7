// A local user racing the broker: a separate process running as an unprivileged user that swaps a folder for a
// symlink (and back) as fast as it can, until stopped.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/** uid and gid of "nobody": the racer's identity. */
export const NOBODY = 65534;

/**
 * The racer's loop: `<dir>/<name>` (a folder) is moved aside, a symlink to `target` takes its place, the symlink is
 * removed and the folder comes back. With `refill` > 0, a folder the broker removed is made again (as the racer's
 * user, with `refill` files), and so is `<dir>` itself. Every step may fail (the broker may hold or remove the
 * name); the loop simply goes on. It counts the turns in which the symlink was in place.
 */
const SCRIPT = String.raw`
const fs = require('node:fs');
const [dir, name, target, refillArg] = process.argv.slice(1);
const refill = Number(refillArg);
const p = dir + '/' + name, real = dir + '/.' + name + '-real', tmp = dir + '/.' + name + '-tmp';
const exists = (f) => { try { fs.lstatSync(f); return true; } catch { return false; } };
let said = false;
for (;;) {
  if (refill > 0 && !exists(p) && !exists(real)) {
    try {
      fs.mkdirSync(real, { recursive: true });
      for (let i = 0; i < refill; i++) fs.writeFileSync(real + '/f' + i, 'inside\n');
    } catch {}
  }
  try { fs.renameSync(p, real); } catch {}
  try { fs.symlinkSync(target, tmp); fs.renameSync(tmp, p); } catch { try { fs.unlinkSync(tmp); } catch {} }
  if (!said) { said = true; process.stdout.write('ready\n'); }
  // a folder cannot be renamed over a symlink: the link goes first, then the folder comes back
  try { if (fs.lstatSync(p).isSymbolicLink()) fs.unlinkSync(p); } catch {}
  try { fs.renameSync(real, p); } catch {}
}
`;

/** A running racer. */
export interface Racer {
  /** Resolves once the racer has made its first swap. */
  ready: Promise<void>;
  /** Kills the racer (by its pid) and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills the racer without waiting (for synchronous callers). */
  kill(): void;
}

/** Options of a racer. */
export interface RacerOptions {
  /** Its uid and gid (default nobody). */
  uid?: number;
  /** Files to put in a folder it makes again after the broker removed it (0: never remake it). */
  refill?: number;
}

/** Starts a racer swapping `<dir>/<name>` with a symlink to `target`. */
export function startRacer(dir: string, name: string, target: string, opts: RacerOptions = {}): Racer {
  const uid = opts.uid ?? NOBODY;
  const child: ChildProcess = spawn(process.execPath, ['-e', SCRIPT, dir, name, target, String(opts.refill ?? 0)], {
    uid, gid: uid, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the racer exited early (code ${code ?? 'none'})`)));
  });
  ready.catch(() => undefined);
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return {
    ready,
    kill,
    async stop() {
      kill();
      await exited;
    },
  };
}
