// The sandbox user, from one getent: the dedicated user when it exists, else nobody; a configured name must
// exist and must not be root.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { DEDICATED_SANDBOX_USER, FALLBACK_SANDBOX_USER, resolveSandboxUser } from '../../src/sandbox/supervisor/sandbox-user.js';

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
