// updateManager.sh as a real child process: its usage, flag mapping, exit codes, and the appended, rotated log.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { PROJECT } from '../helpers/run.js';

const SCRIPT = path.join(PROJECT, 'updateManager.sh');

interface Result { code: number | null; stdout: string; stderr: string }

/** Runs a script with stdout and stderr on pipes (not a TTY), as cron or a timer would. */
function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(script, args, { cwd: tempDir('uo-um-cwd'), env: { ...process.env, JOURNAL_STREAM: '', UPDATES_LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A copy of the script in a folder of its own (no bin/updates.js beside it) and a recording `updates` on PATH. */
function withRecordingLauncher(exitCode: number): { script: string; argsFile: string; env: NodeJS.ProcessEnv } {
  const dir = tempDir('uo-um-path');
  const script = path.join(dir, 'updateManager.sh');
  copyFileSync(SCRIPT, script);
  mkdirSync(path.join(dir, 'bin-on-path'));
  const argsFile = path.join(dir, 'args');
  writeFileSync(path.join(dir, 'bin-on-path', 'updates'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\necho 'recorded' >&2\nexit ${exitCode}\n`, { mode: 0o755 });
  return { script, argsFile, env: { PATH: `${path.join(dir, 'bin-on-path')}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, UPDATES_LOG_FILE: path.join(dir, 'log', 'u.log') } };
}

const logIn = (dir: string) => path.join(dir, 'updates.log');

test('--help prints its own usage, naming its flags and the passed-through ones', async () => {
  const r = await run(SCRIPT, ['--help']);
  assert.equal(r.code, 0);
  for (const word of ['--check', '--legacy', '--help', '--modules-path', '--repo-url', '--json', '--root', '--wait', 'UPDATES_LOG_FILE', '75 another run holds the lock', '100 updates available']) {
    assert.ok(r.stdout.includes(word), `usage mentions ${word}`);
  }
});

test('the orchestrator\'s exit code comes through: a usage error is 2, logged to the file', async () => {
  const dir = tempDir('uo-um');
  const r = await run(SCRIPT, ['--frobnicate'], { UPDATES_LOG_FILE: logIn(dir) });
  assert.equal(r.code, 2);
  const log = readFileSync(logIn(dir), 'utf8');
  assert.match(log, /start: updates --frobnicate\n.*frobnicate.*updates --help.*\n.*end: exit code 2\n$/s);
});

test('--check runs `updates check` against a real repository: exit 100, the --json report on stdout', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const dir = tempDir('uo-um');
  const r = await run(SCRIPT, ['--check', '--json', '--modules-path', path.join(dir, 'install'), '--repo-url', repo.url], { UPDATES_LOG_FILE: logIn(dir) });
  assert.equal(r.code, 100, readFileSync(logIn(dir), 'utf8'));
  const report = JSON.parse(r.stdout) as { mode: string; updates: { module: string; status: string }[] };
  assert.equal(report.mode, 'check');
  assert.deepEqual(report.updates.map((u) => [u.module, u.status]), [['web', 'available']]);
  assert.match(readFileSync(logIn(dir), 'utf8'), /start: updates check --json --modules-path/);
});

test('the log is appended across runs, not truncated', async () => {
  const dir = tempDir('uo-um');
  writeFileSync(logIn(dir), 'an earlier run\n');
  await run(SCRIPT, ['--frobnicate'], { UPDATES_LOG_FILE: logIn(dir) });
  await run(SCRIPT, ['--wobble'], { UPDATES_LOG_FILE: logIn(dir) });
  const log = readFileSync(logIn(dir), 'utf8');
  assert.ok(log.startsWith('an earlier run\n'));
  assert.equal(log.match(/start: updates/g)?.length, 2);
  assert.match(log, /frobnicate[\s\S]*wobble/);
});

test('a log above the size limit is rotated to .1; older ones shift, the oldest beyond UPDATES_LOG_KEEP is dropped', async () => {
  const dir = tempDir('uo-um');
  const log = logIn(dir);
  writeFileSync(log, `big ${'x'.repeat(2000)}\n`);
  for (let i = 1; i <= 3; i++) writeFileSync(`${log}.${i}`, `generation ${i}\n`);
  const env = { UPDATES_LOG_FILE: log, UPDATES_LOG_MAX_BYTES: '1000', UPDATES_LOG_KEEP: '3' };
  const r = await run(SCRIPT, ['--frobnicate'], env);
  assert.equal(r.code, 2);
  assert.match(readFileSync(`${log}.1`, 'utf8'), /^big x+\n$/);
  assert.equal(readFileSync(`${log}.2`, 'utf8'), 'generation 1\n');
  assert.equal(readFileSync(`${log}.3`, 'utf8'), 'generation 2\n');
  assert.equal(existsSync(`${log}.4`), false, 'generation 3 was the oldest and is gone');
  assert.match(readFileSync(log, 'utf8'), /^\S+ updateManager\.sh\[\d+\]: start: updates --frobnicate\n/);
  await run(SCRIPT, ['--again'], env);
  assert.equal(readFileSync(`${log}.2`, 'utf8'), 'generation 1\n', 'a small log is not rotated');
  assert.match(readFileSync(log, 'utf8'), /frobnicate[\s\S]*again/);
});

test('--legacy is passed as `updates --legacy`, other flags unchanged; `updates` is found on PATH', async () => {
  const { script, argsFile, env } = withRecordingLauncher(75);
  const r = await run(script, ['--legacy', '--modules-path', '/srv/u', '--json'], env);
  assert.equal(r.code, 75);
  assert.deepEqual(readFileSync(argsFile, 'utf8').trimEnd().split('\n'), ['--legacy', '--modules-path', '/srv/u', '--json']);
  const c = await run(script, ['--wait', '--check'], env);
  assert.equal(c.code, 75);
  assert.deepEqual(readFileSync(argsFile, 'utf8').trimEnd().split('\n'), ['check', '--wait']);
  assert.match(readFileSync(String(env['UPDATES_LOG_FILE']), 'utf8'), /recorded\n.*end: exit code 75\n/);
});

test('under systemd, with stdout the journal stream, nothing is written to a log file', async () => {
  const dir = tempDir('uo-um');
  const out = path.join(dir, 'journal.txt');
  const cmd = `exec >'${out}' 2>&1; JOURNAL_STREAM="$(stat -L -c '%d:%i' /proc/$$/fd/1)" exec '${SCRIPT}' --frobnicate`;
  const r = await run('/bin/bash', ['-c', cmd], { UPDATES_LOG_FILE: logIn(dir) });
  assert.equal(r.code, 2);
  assert.equal(existsSync(logIn(dir)), false);
  assert.match(readFileSync(out, 'utf8'), /frobnicate/);
});

test('no launcher anywhere: exit 2 and a message saying where it looked', async () => {
  const dir = tempDir('uo-um');
  const script = path.join(dir, 'updateManager.sh');
  copyFileSync(SCRIPT, script);
  const r = await run(script, [], { PATH: '/usr/bin:/bin' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot find the updates launcher/);
});
