// A remote that accepts the connection and never answers: the sync gives up after fetch_timeout, the installed
// modules still run, and no git helper outlives the run.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runCli } from '../helpers/run.js';

/** Command lines of live processes that mention `needle`. */
function processesMentioning(needle: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push(`${pid}: ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

test('a remote that never answers fails the sync after fetch_timeout; installed modules run; no git helper is left', { timeout: 300_000 }, async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  const flags = ['--modules-path', root, '--services', 'record', '--json'];
  assert.equal((await runCli([...flags, '--repo-url', repo.url])).code, 0);
  writeFileSync(path.join(root, 'config.json'), JSON.stringify({ fetch_timeout: 2 }));

  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => sockets.push(s)).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const url = `http://127.0.0.1:${port}/updates.git`;
  try {
    const r = await runCli([...flags, '--repo-url', url], { timeoutMs: 240_000 });
    assert.equal(r.code, 1, r.stderr);
    assert.ok(sockets.length > 0, 'git really connected to the silent server');
    const report = JSON.parse(r.stdout) as { errors: { code: string; message: string }[]; modules: { module: string; status: string }[] };
    assert.equal(report.errors[0]?.code, 'E_SYNC_UNREACHABLE');
    assert.match(report.errors[0]?.message ?? '', /did not answer within 2 s \(fetch_timeout/);
    assert.deepEqual(report.modules.map((m) => [m.module, m.status]), [['web', 'ok']], 'the installed module still ran');
    assert.deepEqual(processesMentioning(`127.0.0.1:${port}`), [], 'no git process outlived the run');
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});
