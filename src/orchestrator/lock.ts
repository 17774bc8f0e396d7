/**
 * The run lock: one run per install root at a time.
 *
 * The lock is a listening Unix socket in Linux's abstract namespace, named after the install root. The kernel
 * frees the name the moment the holder dies, however it dies (kill -9 included), so a lock is never stale and
 * there is no lock file to clean up. A second run connects to it and reads who holds it.
 * Abstract socket names have no permissions, so the name is derived from a random key kept in the install
 * root's state folder (mode 0600): a local user who cannot read it cannot take the name first and keep every
 * run out. Anyone may still connect to the name (it is listed in /proc/net/unix): the holder only ever writes who
 * it is and closes, and an error on such a connection (a reset, a broken pipe) is ignored, never the holder's end.
 * The lock is keyed on the install root's real path, so a root reached through a symlink is the same lock.
 * Limitation: abstract sockets belong to a network namespace; runs in different namespaces do not
 * see each other.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { DEFAULTS } from '../core/defaults.js';
import { UpdatesError } from '../core/errors.js';

export interface LockHolder { pid: number; since: string; root: string }

export interface RunLock {
  readonly holder: LockHolder;
  release(): Promise<void>;
}

/** The random key of an install root's lock, made on first use (readable by its owner only). */
async function lockKey(root: string): Promise<string> {
  const file = path.join(root, 'state', 'lock.key');
  try {
    return await fsp.readFile(file, 'utf8');
  } catch {
    await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const key = randomBytes(32).toString('hex');
    try {
      await fsp.writeFile(file, key, { mode: 0o600, flag: 'wx' });
      return key;
    } catch {
      return fsp.readFile(file, 'utf8'); // another run made it first
    }
  }
}

/** The install root as the lock knows it: its real path, so every alias of one folder is one lock. */
async function resolvedRoot(root: string): Promise<string> {
  await fsp.mkdir(root, { recursive: true });
  return fsp.realpath(root);
}

/** The abstract socket name for an install root (through whatever symlinks lead to it). */
export async function lockName(root: string): Promise<string> {
  const real = await resolvedRoot(root);
  const key = await lockKey(real);
  return `\0updates-orchestrator/${createHash('sha256').update(`${real}\0${key}`).digest('hex').slice(0, 40)}`;
}

function listen(name: string, holder: LockHolder): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((sock) => {
      // Whoever connected may already be gone (a reset, a broken pipe): that is their business, not the holder's.
      sock.on('error', () => sock.destroy());
      sock.end(JSON.stringify(holder));
    });
    const onStartError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') resolve(undefined);
      else reject(err);
    };
    server.once('error', onStartError);
    server.listen(name, () => {
      server.removeListener('error', onStartError);
      // Once listening, nothing a client does may end the holder.
      server.on('error', () => undefined);
      server.unref();
      resolve(server);
    });
  });
}

/** Asks the holder who it is; undefined when it died meanwhile or does not answer. */
export function queryHolder(name: string, timeoutMs: number = DEFAULTS.lockQueryTimeoutMs): Promise<LockHolder | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect(name);
    let data = '';
    const done = (h: LockHolder | undefined) => {
      sock.destroy();
      resolve(h);
    };
    sock.setTimeout(timeoutMs, () => done(undefined));
    sock.on('data', (d) => (data += d.toString('utf8')));
    sock.on('end', () => {
      try {
        done(JSON.parse(data) as LockHolder);
      } catch {
        done(undefined);
      }
    });
    sock.on('error', () => done(undefined));
  });
}

/**
 * Takes the lock of `root`. Without `wait`, throws E_LOCKED naming the holder; with it, polls until free or
 * until `waitTimeoutMs` runs out.
 */
export interface LockOptions {
  wait?: boolean;
  waitTimeoutMs?: number;
  /** Called once, when `wait` is set and the lock is found held: the holder, if it answered. */
  onWait?: (holder: LockHolder | undefined) => void;
}

export async function acquireLock(given: string, options: LockOptions = {}): Promise<RunLock> {
  const root = await resolvedRoot(given);
  const name = await lockName(root);
  const holder: LockHolder = { pid: process.pid, since: new Date().toISOString(), root };
  const deadline = Date.now() + (options.waitTimeoutMs ?? Number.POSITIVE_INFINITY);
  let told = false;
  for (;;) {
    const server = await listen(name, holder);
    if (server !== undefined) {
      return {
        holder,
        release: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }
    if (!options.wait || Date.now() >= deadline) {
      const other = await queryHolder(name);
      throw new UpdatesError('E_LOCKED', {
        root,
        pid: other ? String(other.pid) : 'unknown',
        since: other ? other.since : 'unknown',
      });
    }
    if (!told) {
      told = true;
      options.onWait?.(await queryHolder(name));
    }
    await new Promise((r) => setTimeout(r, DEFAULTS.lockPollMs));
  }
}
