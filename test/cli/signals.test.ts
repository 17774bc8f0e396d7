// SIGTERM and SIGINT: an interrupted run stops what it started, saves its report as `interrupted` and exits 143
// or 130; the launcher passes the signal on to a release it runs and waits for it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, constants, existsSync, mkdirSync, openSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { acquireLock } from '../../src/orchestrator/lock.js';
import type { RunReport } from '../../src/orchestrator/report.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runCli } from '../helpers/run.js';

/** The pids of every process descending from `pid` (read from /proc). */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, pp] of parent) {
      if (pp !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

/** A FIFO a command writes "up" into once it runs; resolves on the first line (no polling). */
function fifoLine(fifo: string): { line: Promise<void>; close: () => void } {
  const sock = new net.Socket({ fd: openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false });
  const line = new Promise<void>((resolve) => sock.on('data', () => resolve()));
  return { line, close: () => sock.destroy() };
}

test('SIGTERM during a module run: exit 143, the report says interrupted, the lock is free, nothing started is left running', async () => {
  const mark = `signals-test-${randomUUID()}`;
  const dir = tempDir('uo-signal');
  chmodSync(dir, 0o755);
  const fifo = path.join(dir, 'up');
  assert.equal(spawnSync('mkfifo', ['-m', '666', fifo]).status, 0);
  const argv = ['/bin/sh', '-c', `echo up >${fifo}; sleep 300; : ${mark}`];
  const files = moduleFiles('hang', { version: '1.0.0', timeoutSeconds: 600, capabilities: { commands: [argv] }, body: `await exec(${JSON.stringify(argv)}, { timeoutMs: 600_000 });\n  return { success: true };` });
  files['modules/hang/index.ts'] = (files['modules/hang/index.ts'] ?? '').replace("import { log } from 'updates-orchestrator/sdk';", "import { exec, log } from 'updates-orchestrator/sdk';");
  const repo = makeRepo({ ...rootIndex(), ...files });
  const install = tempDir('uo-signal');
  const running = fifoLine(fifo);
  let child: ChildProcess | undefined;
  let started: number[] = [];
  try {
    const run = runCli(['--modules-path', install, '--repo-url', repo.url, '--services', 'record'], { onSpawn: (c) => (child = c) });
    await running.line;
    const pid = child?.pid ?? 0;
    started = descendants(pid);
    assert.ok(started.length > 0, 'the run started a sandbox and a command');
    child?.kill('SIGTERM');
    const r = await run;
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /interrupted by SIGTERM/);
    const report = JSON.parse(readFileSync(path.join(install, 'state', 'last-run.json'), 'utf8')) as RunReport;
    assert.equal(report.status, 'interrupted');
    assert.equal(report.signal, 'SIGTERM');
    assert.equal(report.exitCode, 143);
    assert.deepEqual(started.filter(alive), [], 'no process the run started outlives it');
    assert.equal(spawnSync('pgrep', ['-f', mark]).status, 1, 'the module\'s command was killed');
    const lock = await acquireLock(install);
    await lock.release();
  } finally {
    running.close();
  }
});

/** A stand-in release: answers --version; a run says it is ready, and on SIGTERM or SIGINT records it, then exits 128+n. */
const FAKE_RELEASE = `
import { writeFileSync } from 'node:fs';
if (process.argv.includes('--version')) { console.log('8.8.8'); process.exit(0); }
const out = process.env.FAKE_RELEASE_OUT;
for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]]) {
  process.on(signal, () => setImmediate(() => { writeFileSync(out, signal + ' ' + process.pid); process.exit(code); }));
}
process.stderr.write('fake release ready ' + process.pid + '\\n');
setInterval(() => undefined, 60_000);
`;

function installWithRelease(files: Record<string, string>): string {
  const install = tempDir('uo-signal');
  const release = path.join(install, 'releases', 'fake-1');
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(release, rel)), { recursive: true });
    writeFileSync(path.join(release, rel), text);
  }
  symlinkSync('fake-1', path.join(install, 'releases', 'current'));
  return install;
}

for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
  test(`the launcher passes ${signal} on to the release it runs, waits for it, and exits ${code}`, async () => {
    const install = installWithRelease({ 'bin/updates.js': FAKE_RELEASE, 'package.json': '{ "type": "module" }' });
    const out = path.join(tempDir('uo-signal'), 'got');
    let launcher: ChildProcess | undefined;
    let ready: () => void = () => undefined;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    const run = runCli(['--modules-path', install], { env: { FAKE_RELEASE_OUT: out }, onSpawn: (c) => (launcher = c), onStderr: (text) => text.includes('fake release ready') && ready() });
    await isReady;
    launcher?.kill(signal);
    const r = await run;
    assert.equal(r.signal, null, 'the launcher was not killed by the signal: it waited');
    assert.equal(r.code, code, r.stderr);
    const [got, pid] = readFileSync(out, 'utf8').split(' ');
    assert.equal(got, signal, 'the release got the signal');
    assert.equal(alive(Number(pid)), false, 'the release ended before the launcher');
  });
}

test('a current release that does not start: the launcher says so on one line and runs its own package', async () => {
  const install = installWithRelease({ 'bin/updates.js': "import 'a-package-that-was-removed';\n", 'package.json': '{ "type": "module" }' });
  const r = await runCli(['--version', '--modules-path', install]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0] ?? '', /^updates: the current orchestrator release fake-1 does not start \(Error \[ERR_MODULE_NOT_FOUND\]: Cannot find package 'a-package-that-was-removed'.*\); running the launcher's own package instead$/);
});

test('a current release that does not start: the launcher falls back to the release before it when that one starts', async () => {
  const install = installWithRelease({ 'bin/updates.js': "import 'a-package-that-was-removed';\n", 'package.json': '{ "type": "module" }' });
  const good = path.join(install, 'releases', 'good-0');
  mkdirSync(path.join(good, 'bin'), { recursive: true });
  writeFileSync(path.join(good, 'bin', 'updates.js'), FAKE_RELEASE);
  writeFileSync(path.join(good, 'package.json'), '{ "type": "module" }');
  writeFileSync(path.join(install, 'releases', 'state.json'), JSON.stringify({ previous: 'good-0' }));
  const r = await runCli(['--version', '--modules-path', install]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '8.8.8', 'the previous release ran');
  assert.match(r.stderr.trim(), /^updates: the current orchestrator release fake-1 does not start \(.*\); running release good-0 instead$/);
});
