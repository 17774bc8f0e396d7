// bin/updates.js is plain JavaScript that must outlive every release it starts, so it keeps its own list of the
// exit codes a completed run has. This pins that list to the one in src/core/exit-codes.ts.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { EXIT } from '../../src/core/exit-codes.js';
import { PROJECT } from '../helpers/run.js';

test("the launcher's normal exit codes are exactly the CLI's exit codes", async () => {
  const launcher = await readFile(path.join(PROJECT, 'bin', 'updates.js'), 'utf8');
  const match = /const NORMAL = new Set\(\[([\d,\s]*)\]\)/.exec(launcher);
  assert.ok(match?.[1] !== undefined, 'bin/updates.js declares `const NORMAL = new Set([...])`');
  const listed = match[1].split(',').map((s) => Number(s.trim())).sort((a, b) => a - b);
  const declared = Object.values(EXIT).map(Number).sort((a, b) => a - b);
  assert.deepEqual(listed, declared);
});
