// Runs the security attack suite (run.ts) as a child process, so `npm test` fails when any attack is not contained.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runNode } from '../helpers/run.js';

test('every attack of the security suite is contained', { timeout: 600_000 }, async () => {
  const res = await runNode(['test/security/run.ts'], { timeoutMs: 590_000 });
  const lines = res.stdout.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  const m = /^(\d+) attacks, (\d+) contained$/.exec(last);
  assert.ok(m !== null, `the suite did not finish with its summary line:\n${res.stdout.slice(-2000)}\n${res.stderr.slice(-2000)}`);
  // On failure, the table and the reasons are the message: they say which attack got through and how.
  assert.equal(m[2], m[1], res.stdout);
  assert.equal(res.code, 0, res.stdout);
});
