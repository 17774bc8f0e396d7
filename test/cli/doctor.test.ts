// `updates doctor`: one line (or one JSON entry) per check, warnings distinct from failures, exit 1 on a failure.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runCli } from '../helpers/run.js';

interface Check { name: string; ok: boolean; level: 'ok' | 'warn' | 'fail'; detail: string; fix: string }
const NAMES = ['node', 'git', 'root', 'sandbox-user', 'memory-cgroup', 'config', 'repository', 'signatures', 'install-root', 'timer', 'last-run'];

function machine(config: unknown): string {
  const root = tempDir();
  mkdirSync(path.join(root, 'etc/updates-orchestrator'), { recursive: true });
  writeFileSync(path.join(root, 'etc/updates-orchestrator/config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return root;
}

async function doctor(root: string): Promise<{ code: number | null; checks: Map<string, Check>; stderr: string }> {
  const r = await runCli(['doctor', '--json', '--root', root]);
  const doc = JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
  assert.equal(doc.ok, r.code === 0);
  assert.deepEqual(doc.checks.map((c) => c.name), NAMES);
  for (const c of doc.checks) {
    assert.equal(c.ok, c.level !== 'fail', c.name);
    if (c.level !== 'ok') assert.notEqual(c.fix, '', `${c.name} says how to fix it`);
  }
  return { code: r.code, checks: new Map(doc.checks.map((c) => [c.name, c])), stderr: r.stderr };
}

test('a configured, reachable repository after a good run: exit 0; unsigned sources are a warning, not a failure', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = machine({ repo_url: repo.url, services: 'record' });
  const before = await doctor(root);
  assert.equal(before.checks.get('last-run')?.level, 'warn');
  assert.match(before.checks.get('install-root')?.detail ?? '', /writable, \d+ MB free/);
  const run = await runCli(['run', '--root', root]);
  assert.equal(run.code, 0, run.stderr);
  const d = await doctor(root);
  assert.equal(d.code, 0, JSON.stringify([...d.checks.values()].filter((c) => !c.ok)));
  for (const name of ['node', 'git', 'root', 'config', 'repository', 'install-root', 'last-run']) assert.equal(d.checks.get(name)?.level, 'ok', name);
  assert.equal(d.checks.get('signatures')?.level, 'warn');
  assert.match(d.checks.get('signatures')?.detail ?? '', /replace the orchestrator/);
  assert.match(d.checks.get('repository')?.detail ?? '', /branch main at [0-9a-f]{12}/);
});

test('signatures configured: the signatures check passes', async () => {
  const repo = makeRepo({ ...rootIndex() });
  const signers = path.join(tempDir(), 'allowed_signers');
  writeFileSync(signers, 'admin@example.invalid ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDummyKeyForTheCheckOnly\n');
  const d = await doctor(machine({ repo_url: repo.url, require_signed: true, allowed_signers: signers }));
  assert.equal(d.checks.get('signatures')?.level, 'ok');
});

test('an unreachable repository or none at all fails, with the fix; exit 1', async () => {
  const gone = await doctor(machine({ repo_url: `file://${tempDir()}/missing.git` }));
  assert.equal(gone.code, 1);
  assert.equal(gone.checks.get('repository')?.level, 'fail');
  assert.match(gone.checks.get('repository')?.detail ?? '', /is not reachable/);
  const none = await doctor(machine({}));
  assert.equal(none.code, 1);
  assert.match(none.checks.get('repository')?.fix ?? '', /"repo_url"/);
});

test('an invalid config file fails the config check with its message; the other checks still run', async () => {
  const d = await doctor(machine({ repo_url: 'file:///x', pool_sise: 2 }));
  assert.equal(d.code, 1);
  assert.equal(d.checks.get('config')?.level, 'fail');
  assert.match(d.checks.get('config')?.detail ?? '', /did you mean "pool_size"/);
  assert.equal(d.checks.get('git')?.level, 'ok');
});

test('the text form prints one line per check, labelled ok, WARN or FAIL', async () => {
  const r = await runCli(['doctor', '--root', machine({})]);
  assert.equal(r.code, 1);
  const lines = r.stdout.split('\n').filter((l) => /^(ok {2}|WARN|FAIL) /.test(l));
  assert.deepEqual(lines.map((l) => l.split(/\s+/)[1]), NAMES);
  assert.match(r.stdout, /^FAIL\s+repository\s+no repository is configured\n\s+fix: /m);
  assert.match(r.stdout, /\d+ failed, \d+ warnings?\n$/);
});
