// A read-only or full file system under the install root: a catalogue error naming the path and the fix,
// never E_INTERNAL. The faults are real: a read-only bind mount and a small tmpfs, each in a private mount
// namespace of the child (unshare -m), so nothing outside the test sees them.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { RunReport } from '../../src/orchestrator/report.js';
import { liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { BIN, PROJECT, runCli } from '../helpers/run.js';

/** Whether this process may make mount namespaces and mount in them (root in CI). */
const canMount = spawnSync('unshare', ['-m', 'bash', '-c', 'mount -t tmpfs -o size=1m tmpfs /mnt'], { stdio: 'ignore' }).status === 0;
const skip = canMount ? false : 'needs mount namespaces (unshare -m) and mount: run the tests as root';

const cliFlags = (root: string, url: string) => ['--modules-path', root, '--repo-url', url, '--services', 'record', '--json'];

/** Runs `setup` (shell, in a private mount namespace), then the CLI in the same namespace. */
function runCliMounted(setup: string, args: string[]): Promise<{ code: number | null; report: RunReport; stderr: string }> {
  const quoted = args.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const script = `set -e; ${setup}; exec "${process.execPath}" --import tsx "${BIN}" ${quoted}`;
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-m', 'bash', '-c', script], { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve({ code, report: JSON.parse(stdout) as RunReport, stderr });
      } catch {
        reject(new Error(`no JSON report (exit ${code ?? 'signal'}): ${stdout}\n${stderr}`));
      }
    });
  });
}

test('a read-only install root: E_FS_READONLY naming the folder, the installed version stays', { skip, timeout: 300_000 }, async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  const first = await runCli(cliFlags(root, repo.url));
  assert.equal(first.code, 0, first.stderr);
  repo.commit(moduleFiles('web', { version: '1.1.0' }));
  const r = await runCliMounted(`mount --bind "${root}" "${root}"; mount -o remount,ro,bind "${root}"`, cliFlags(root, repo.url));
  assert.equal(r.code, 1, r.stderr);
  const codes = r.report.errors.map((e) => e.code);
  assert.ok(codes.length > 0 && codes.every((c) => c === 'E_FS_READONLY'), JSON.stringify(r.report.errors));
  assert.match(r.report.errors[0]?.message ?? '', new RegExp(`the file system holding ${root}/\\S* is read-only \\(EROFS\\); remount it read-write`));
  assert.equal(liveVersions(root)['web'], '1.0.0');
});

test('a full file system: E_FS_FULL naming the folder for the module that does not fit; the others install and run', { skip, timeout: 300_000 }, async () => {
  const repo = makeRepo({
    ...rootIndex(),
    ...moduleFiles('big', { version: '1.0.0' }),
    // Zeros pack to almost nothing in the clone but take 16 MB once written out.
    'modules/big/data.bin': '\0'.repeat(16 * 2 ** 20),
    ...moduleFiles('web', { version: '1.0.0' }),
  });
  const root = tempDir();
  mkdirSync(root, { recursive: true });
  const r = await runCliMounted(`mount -t tmpfs -o size=6m tmpfs "${root}"`, cliFlags(root, repo.url));
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(r.report.errors.map((e) => e.code), ['E_FS_FULL'], JSON.stringify(r.report.errors));
  assert.match(r.report.errors[0]?.message ?? '', new RegExp(`no space left on the file system holding ${path.join(root, '.versions', 'big')}\\S* \\(ENOSPC\\); free space`));
  assert.deepEqual(r.report.updates.map((u) => [u.module, u.status]), [['big', 'failed'], ['web', 'installed']]);
  assert.deepEqual(r.report.modules.map((m) => [m.module, m.status]), [['web', 'ok']]);
});
