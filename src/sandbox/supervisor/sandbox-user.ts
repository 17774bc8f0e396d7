// Finds the unprivileged user the sandbox process runs as: a configured name, else updates-sandbox, else nobody.
import { DEFAULTS } from '../../core/defaults.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The dedicated system user an installation may create for the sandbox (`useradd --system updates-sandbox`). */
export const DEDICATED_SANDBOX_USER = DEFAULTS.sandboxUser;
/** The fallback present on every Linux system. */
export const FALLBACK_SANDBOX_USER = 'nobody';

/** A resolved user: name, uid and its primary gid (nobody's is nogroup, 65534). */
export interface SandboxUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * The passwd entries of `names` through one getent (so NSS users count too), by name; a name without an entry
 * is absent (getent then exits 2, still printing the entries it found).
 */
async function lookup(names: readonly string[]): Promise<Map<string, SandboxUser>> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('getent', ['passwd', ...names], { timeout: 5000, env: { PATH: '/usr/bin:/bin' } }));
  } catch (err) {
    stdout = typeof (err as { stdout?: unknown }).stdout === 'string' ? (err as { stdout: string }).stdout : '';
  }
  const users = new Map<string, SandboxUser>();
  for (const line of stdout.split('\n')) {
    const [name = '', , uid, gid] = line.trim().split(':');
    const user = { name, uid: Number(uid), gid: Number(gid) };
    if (names.includes(name) && !users.has(name) && Number.isSafeInteger(user.uid) && Number.isSafeInteger(user.gid)) users.set(name, user);
  }
  return users;
}

/** A lookup started by prefetchSandboxUser, for the next resolveSandboxUser of the same names. */
let prefetched: { key: string; found: Promise<Map<string, SandboxUser>> } | undefined;

/**
 * Starts the lookup resolveSandboxUser(configured) will need (a getent process), so that it runs while the caller
 * does other work; the next resolveSandboxUser of the same user takes its answer.
 */
export function prefetchSandboxUser(configured?: string): void {
  const names = configured !== undefined ? [configured] : [DEDICATED_SANDBOX_USER, FALLBACK_SANDBOX_USER];
  const found = lookup(names);
  found.catch(() => undefined);
  prefetched = { key: names.join('\0'), found };
}

/**
 * Resolves the sandbox user. A configured name must exist; without one, `updates-sandbox` is used when present,
 * else `nobody`. uid 0 and gid 0 are refused: the point of the process is to hold no privilege.
 */
export async function resolveSandboxUser(configured?: string): Promise<SandboxUser> {
  const names = configured !== undefined ? [configured] : [DEDICATED_SANDBOX_USER, FALLBACK_SANDBOX_USER];
  const key = names.join('\0');
  // A lookup started ahead for the same names is taken, once; any other resolution looks up anew.
  const ahead = prefetched?.key === key ? prefetched.found : undefined;
  prefetched = undefined;
  const found = await (ahead ?? lookup(names));
  for (const name of names) {
    const user = found.get(name);
    if (user === undefined) continue;
    if (user.uid === 0 || user.gid === 0) throw new Error(`sandbox user "${name}" has uid or gid 0; pick an unprivileged user`);
    return user;
  }
  throw new Error(`no sandbox user: ${names.map((n) => `"${n}"`).join(' or ')} not found (getent passwd)`);
}
