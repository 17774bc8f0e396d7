// The shipped systemd units pass `systemd-analyze verify` without a warning (with ExecStart pointed at this
// checkout's launcher), say what they must, and the sysusers.d entry creates the sandbox user.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/repo.js';
import { BIN, PROJECT } from '../helpers/run.js';

const UNITS = path.join(PROJECT, 'systemd');
const which = (cmd: string) => ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => path.join(d, cmd)).find((p) => existsSync(p));

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }));
  });
}

const service = readFileSync(path.join(UNITS, 'updates-orchestrator.service'), 'utf8');
const timer = readFileSync(path.join(UNITS, 'updates-orchestrator.timer'), 'utf8');

test('the service is a oneshot `updates run` that counts a held lock (75) as success; the timer is randomized and persistent', () => {
  assert.match(service, /^Type=oneshot$/m);
  assert.match(service, /^ExecStart=\/usr\/local\/bin\/updates run$/m);
  assert.match(service, /^SuccessExitStatus=75$/m);
  for (const breaking of ['ProtectSystem', 'ProtectHome', 'ProtectControlGroups', 'ProtectKernelModules', 'ProtectClock', 'RestrictNamespaces', 'RestrictSUIDSGID', 'NoNewPrivileges', 'CapabilityBoundingSet', 'MemoryDenyWriteExecute', 'DynamicUser']) {
    assert.doesNotMatch(service, new RegExp(`^${breaking}=`, 'm'), `${breaking} would break what modules or the sandbox legitimately do`);
  }
  assert.match(timer, /^OnCalendar=/m);
  assert.match(timer, /^RandomizedDelaySec=/m);
  assert.match(timer, /^Persistent=true$/m);
  assert.match(timer, /^WantedBy=timers\.target$/m);
});

const analyze = which('systemd-analyze');
test('systemd-analyze verify accepts the units without a warning', { skip: analyze === undefined ? 'systemd-analyze is not installed' : false }, async () => {
  const dir = tempDir('uo-units');
  writeFileSync(path.join(dir, 'updates-orchestrator.service'), service.replace('/usr/local/bin/updates', BIN));
  copyFileSync(path.join(UNITS, 'updates-orchestrator.timer'), path.join(dir, 'updates-orchestrator.timer'));
  const r = await run(analyze ?? '', ['verify', '--man=no', './updates-orchestrator.service', './updates-orchestrator.timer'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warning (an unknown key or a bad value is only a warning)');
});

const sysusers = which('systemd-sysusers');
test('the sysusers.d entry creates the sandbox user updates-sandbox, with no login shell', { skip: sysusers === undefined ? 'systemd-sysusers is not installed' : false }, async () => {
  const root = tempDir('uo-sysroot');
  await run('mkdir', ['-p', path.join(root, 'etc')], root);
  for (const f of ['passwd', 'group']) copyFileSync(path.join('/etc', f), path.join(root, 'etc', f));
  const r = await run(sysusers ?? '', [`--root=${root}`, path.join(UNITS, 'updates-orchestrator.sysusers.conf')], root);
  assert.equal(r.code, 0, r.stderr);
  const entry = readFileSync(path.join(root, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith('updates-sandbox:'));
  assert.ok(entry !== undefined, 'updates-sandbox is in passwd');
  const [, , uid, , , , shell] = entry.split(':');
  assert.notEqual(Number(uid), 0);
  assert.equal(shell, '/usr/sbin/nologin');
});
