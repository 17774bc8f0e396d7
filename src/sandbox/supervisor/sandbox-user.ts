// Finds the unprivileged user the sandbox process runs as: a configured name, else updates-sandbox, else nobody.
import { DEFAULTS } from '../../core/defaults.js';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

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

/** The passwd entries of `names` in passwd-format `text` (a line `name:x:uid:gid:...`), by name; the first line of a name counts. */
function entriesOf(text: string, names: readonly string[]): Map<string, SandboxUser> {
  const users = new Map<string, SandboxUser>();
  for (const line of text.split('\n')) {
    const [name = '', , uid, gid] = line.trim().split(':');
    const user = { name, uid: Number(uid), gid: Number(gid) };
    if (names.includes(name) && !users.has(name) && /^\d+$/.test(uid ?? '') && /^\d+$/.test(gid ?? '') && Number.isSafeInteger(user.uid) && Number.isSafeInteger(user.gid)) users.set(name, user);
  }
  return users;
}

/**
 * Whether NSS answers a passwd lookup from /etc/passwd before any other source: the `passwd:` line of
 * nsswitch.conf (`nsswitch`) names `files` (or `compat`) first, with no action after it that would go on past
 * a found entry, and the file (`passwd`) has no NIS `+`/`-` lines. Then an entry found there is what getent
 * would print; otherwise only getent knows.
 */
export function filesAnswerFirst(nsswitch: string, passwd: string): boolean {
  const line = nsswitch.split('\n').map((l) => l.replace(/#.*/, '').trim()).find((l) => /^passwd\s*:/.test(l));
  if (line === undefined) return false;
  const [first, next] = line.slice(line.indexOf(':') + 1).trim().split(/\s+/);
  if (first !== 'files' && first !== 'compat') return false;
  if (next !== undefined && next.startsWith('[')) return false;
  return !passwd.split('\n').some((l) => /^[+-]/.test(l));
}

/**
 * The passwd entry of `name` from /etc/passwd, when that file is where NSS looks first and has it; undefined
 * when only getent can tell (the file does not have it, or NSS reads another source first).
 */
function localEntry(name: string): SandboxUser | undefined {
  try {
    const passwd = readFileSync('/etc/passwd', 'utf8');
    if (!filesAnswerFirst(readFileSync('/etc/nsswitch.conf', 'utf8'), passwd)) return undefined;
    return entriesOf(passwd, [name]).get(name);
  } catch {
    return undefined;
  }
}

/**
 * The passwd entries of `names`, by name; a name without an entry is absent. When the first name (the one
 * preferred) is in /etc/passwd and NSS reads that file first, that entry alone, with no process (see
 * localEntry); otherwise through one getent, so NSS users count too (getent exits 2 when a name has no entry,
 * still printing the entries it found).
 */
async function lookup(names: readonly string[]): Promise<Map<string, SandboxUser>> {
  const preferred = names[0];
  const local = preferred !== undefined ? localEntry(preferred) : undefined;
  if (local !== undefined) return new Map([[local.name, local]]);
  const stdout = await new Promise<string>((resolve) => {
    execFile('getent', ['passwd', ...names], { timeout: 5000, env: { PATH: '/usr/bin:/bin' } }, (_err, out) => resolve(typeof out === 'string' ? out : ''));
  });
  return entriesOf(stdout, names);
}

/** A lookup started by prefetchSandboxUser, for the next resolveSandboxUser of the same names. */
let prefetched: { key: string; found: Promise<Map<string, SandboxUser>> } | undefined;

/**
 * Starts the lookup resolveSandboxUser(configured) will need (a getent process, unless /etc/passwd answers), so
 * that it runs while the caller does other work; the next resolveSandboxUser of the same user takes its answer.
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
