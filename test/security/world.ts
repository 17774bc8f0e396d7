// The temp world one attack runs in: a --root folder with watched files, a root-owned sentinel, an HTTP sink and a secret.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';

/** uid and gid of "nobody"/"nogroup": the owner the attacker's write grant declares, and the owner of owned.txt. */
export const NOBODY = 65534;

/** Everything an attack's setup, manifest and evidence checks may refer to. */
export interface World {
  /** Random per attack: marks processes, loot and secrets of this attack only. */
  token: string;
  /** The --root folder: every path a module declares maps under it. */
  root: string;
  /** The orchestrator's install root, under root as the default /var/local/lib/updates. */
  installRoot: string;
  /** Where the test repository is made (outside root). */
  repoParent: string;
  /** /tmp/uo-sec-<token>: outside root altogether; holds the root-owned `watched` sentinel. */
  sentinelDir: string;
  sentinel: string;
  /** What a successful attacker writes: the suite scans for it outside the attacker's own grant. */
  loot: string;
  /** A secret in the orchestrator's own environment (UO_SEC_SECRET); it must never leave the host. */
  secret: string;
  /** Port of the HTTP sink on 127.0.0.1 that counts every request it receives. */
  port: number;
  hits(): number;
  /** A module path (as the module writes it) mapped to the host path under root. */
  host(view: string): string;
  cleanup(): Promise<void>;
}

function writeOwned(file: string, content: string, uid: number, mode: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  chownSync(file, uid, uid);
  chmodSync(file, mode);
}

function startSink(): Promise<{ server: Server; port: number; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits += 1;
    req.resume();
    res.end('sink');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({ server, port, hits: () => hits });
    });
  });
}

/**
 * Makes the world: <root>/etc/outside/secret (outside every grant), <root>/srv/ro/data (read-only grant),
 * <root>/srv/demo (the attacker's write grant) with owned.txt owned by nobody, <root>/srv/canary (the canary's
 * grant), and the sentinel /tmp/uo-sec-<token>/watched owned by root, mode 0600.
 */
export async function makeWorld(): Promise<World> {
  const token = randomBytes(6).toString('hex');
  const root = mkdtempSync(path.join(os.tmpdir(), 'uo-sec-root-'));
  const repoParent = mkdtempSync(path.join(os.tmpdir(), 'uo-sec-repo-'));
  const sentinelDir = path.join(os.tmpdir(), `uo-sec-${token}`);
  const host = (view: string): string => path.join(root, view);
  mkdirSync(sentinelDir, { mode: 0o700 });
  const sentinel = path.join(sentinelDir, 'watched');
  writeOwned(sentinel, `sentinel ${token}\n`, 0, 0o600);
  writeOwned(host('/etc/outside/secret'), `outside secret ${token}\n`, 0, 0o600);
  writeOwned(host('/srv/ro/data'), `read-only data ${token}\n`, 0, 0o644);
  writeOwned(host('/srv/demo/owned.txt'), 'owned by nobody\n', NOBODY, 0o644);
  writeOwned(host('/srv/demo/plain.txt'), 'plain\n', 0, 0o644);
  mkdirSync(host('/srv/canary'), { recursive: true });
  mkdirSync(host('/var/local/lib/updates'), { recursive: true });
  const sink = await startSink();
  return {
    token,
    root,
    installRoot: host('/var/local/lib/updates'),
    repoParent,
    sentinelDir,
    sentinel,
    loot: `PWNED-${token}`,
    // run.ts puts it in this process's initial environment, so /proc/<pid>/environ holds it as a real secret would.
    secret: process.env['UO_SEC_SECRET'] ?? `SECRET-${randomBytes(8).toString('hex')}`,
    port: sink.port,
    hits: sink.hits,
    host,
    async cleanup() {
      await new Promise<void>((resolve) => sink.server.close(() => resolve()));
      for (const dir of [root, repoParent, sentinelDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Plants a symlink at a module path (under root) pointing at `target` (a host path). */
export function plantLink(w: World, view: string, target: string): void {
  mkdirSync(path.dirname(w.host(view)), { recursive: true });
  symlinkSync(target, w.host(view));
}
