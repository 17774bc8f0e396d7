// Resolves user and group names or ids against the HOST's /etc/passwd and /etc/group (never those under --root).
import { readFileSync } from 'node:fs';

/** A requested or declared owner/group: a name, a numeric id, or a numeric string. */
export type Principal = string | number;

/** Name → id tables of the host. */
export interface PrincipalTables {
  users: ReadonlyMap<string, number>;
  groups: ReadonlyMap<string, number>;
}

/** Parses passwd/group text: `name:x:id:...`, one entry a line; malformed lines are skipped. */
export function parseIdTable(text: string): Map<string, number> {
  const table = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name === undefined || name === '' || name.startsWith('#') || id === undefined || !/^\d+$/.test(id)) continue;
    if (!table.has(name)) table.set(name, Number(id));
  }
  return table;
}

/**
 * Reads the host's tables. The ids are the host's because the broker chowns with the host kernel: a --root
 * mapping relocates paths, not users, so a name must mean the uid the kernel will record.
 */
export function loadHostPrincipals(passwd = '/etc/passwd', group = '/etc/group'): PrincipalTables {
  return { users: parseIdTable(readFileSync(passwd, 'utf8')), groups: parseIdTable(readFileSync(group, 'utf8')) };
}

/**
 * The numeric id of a principal, or undefined for an unknown name. A string of digits that is not a name
 * is an id, as chown(1) reads it.
 */
export function resolvePrincipal(p: Principal, table: ReadonlyMap<string, number>): number | undefined {
  if (typeof p === 'number') return p;
  const byName = table.get(p);
  if (byName !== undefined) return byName;
  return /^\d+$/.test(p) ? Number(p) : undefined;
}
