// The sandbox user, from /etc/passwd when NSS reads it first and has the user, else from one getent: the
// dedicated user when it exists, else nobody; a configured name must exist and must not be root.
import assert from 'node:assert/strict';
import childProcess, { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { test } from 'node:test';
import { DEDICATED_SANDBOX_USER, FALLBACK_SANDBOX_USER, filesAnswerFirst, resolveSandboxUser } from '../../src/sandbox/supervisor/sandbox-user.js';

/** The passwd line of `name` as getent prints it, or undefined. */
function passwd(name: string): string[] | undefined {
  try {
    return execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
  } catch {
    return undefined;
  }
}

test('without a configured name, the dedicated user when it exists, else nobody', async () => {
  const expected = passwd(DEDICATED_SANDBOX_USER) ?? passwd(FALLBACK_SANDBOX_USER);
  assert.ok(expected !== undefined, 'this system has nobody');
  const user = await resolveSandboxUser();
  assert.deepEqual([user.name, String(user.uid), String(user.gid)], [expected[0], expected[2], expected[3]]);
});

test('a configured name must exist and must not be root', async () => {
  await assert.rejects(resolveSandboxUser('no-such-user-for-updates'), /"no-such-user-for-updates" not found/);
  await assert.rejects(resolveSandboxUser('root'), /uid or gid 0/);
  const nobody = await resolveSandboxUser(FALLBACK_SANDBOX_USER);
  assert.equal(nobody.name, FALLBACK_SANDBOX_USER);
});

test('/etc/passwd answers only where NSS reads it first and nothing in it sends NSS elsewhere', () => {
  const plain = 'root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/usr/sbin/nologin\n';
  assert.equal(filesAnswerFirst('passwd:         files systemd\ngroup: files\n', plain), true);
  assert.equal(filesAnswerFirst('# comment\npasswd: compat\n', plain), true);
  assert.equal(filesAnswerFirst('passwd: files', plain), true);
  // Another source first, an action that may go past a found entry, or no passwd line: only getent knows.
  assert.equal(filesAnswerFirst('passwd: sss files\n', plain), false);
  assert.equal(filesAnswerFirst('passwd: ldap\n', plain), false);
  assert.equal(filesAnswerFirst('passwd: files [SUCCESS=continue] ldap\n', plain), false);
  assert.equal(filesAnswerFirst('#passwd: files\ngroup: files\n', plain), false);
  assert.equal(filesAnswerFirst('', plain), false);
  // NIS lines in the file (compat mode) bring in or hide entries from elsewhere.
  assert.equal(filesAnswerFirst('passwd: compat\n', `${plain}+@admins::::::\n`), false);
  assert.equal(filesAnswerFirst('passwd: files\n', `-nobody::::::\n${plain}`), false);
});

test('a user /etc/passwd has is resolved without a getent process, to what getent says; one it lacks asks getent', async () => {
  let local: boolean;
  try {
    local = filesAnswerFirst(readFileSync('/etc/nsswitch.conf', 'utf8'), readFileSync('/etc/passwd', 'utf8'));
  } catch {
    local = false;
  }
  const calls: string[][] = [];
  const execFile = childProcess.execFile;
  childProcess.execFile = ((file: string, args: readonly string[], ...rest: unknown[]) => {
    calls.push([file, ...args]);
    return (execFile as (...a: unknown[]) => childProcess.ChildProcess)(file, args, ...rest);
  }) as typeof childProcess.execFile;
  syncBuiltinESMExports();
  try {
    const expected = passwd(FALLBACK_SANDBOX_USER);
    assert.ok(expected !== undefined, 'this system has nobody');
    const user = await resolveSandboxUser(FALLBACK_SANDBOX_USER);
    assert.deepEqual([user.name, String(user.uid), String(user.gid)], [expected[0], expected[2], expected[3]]);
    // On this machine NSS reads /etc/passwd first (or not): no process (or one getent).
    assert.deepEqual(calls.filter((c) => c[0] === 'getent').length, local ? 0 : 1, JSON.stringify(calls));
    await assert.rejects(resolveSandboxUser('no-such-user-for-updates'), /not found/);
    assert.equal(calls.filter((c) => c[0] === 'getent' && c.includes('no-such-user-for-updates')).length, 1, 'a user the file lacks is asked of getent');
  } finally {
    childProcess.execFile = execFile;
    syncBuiltinESMExports();
  }
});
