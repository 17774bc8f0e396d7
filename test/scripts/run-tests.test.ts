// The test runner gives every test a deadline: a test that hangs fails by name, and the rest of its file still runs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { PROJECT } from '../helpers/run.js';

test('a hanging test fails with a timeout, by name; the tests around it pass; the suite exits non-zero', async () => {
  const child = spawn(process.execPath, ['scripts/run-tests.mjs', '--test-reporter=tap', 'test/fixtures/runner/hangs.test.ts'], {
    cwd: PROJECT,
    // TAP named, since Node 23 and later print spec by default; without NODE_TEST_CONTEXT, which would make the
    // inner runner report to this one instead of printing.
    env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), UPDATES_TEST_TIMEOUT_MS: '1000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  assert.equal(code, 1, out);
  assert.match(out, /^not ok \d+ - hangs forever\n[\s\S]*?failureType: 'testTimeoutFailure'/m);
  assert.match(out, /^ok \d+ - before the hang$/m);
  assert.match(out, /^ok \d+ - after the hang$/m);
});
