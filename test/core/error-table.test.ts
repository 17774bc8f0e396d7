// docs/errors.md is generated from the error catalogue; this keeps it current and complete.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_SECTIONS, errorTable } from '../../src/core/error-table.js';
import { CATALOGUE } from '../../src/core/errors.js';

test('every catalogue code is in exactly one section of the table, in catalogue order', () => {
  assert.deepEqual(ERROR_SECTIONS.flatMap((s) => s.codes), Object.keys(CATALOGUE));
});

test('docs/errors.md is what the catalogue generates (regenerate with npm run docs:errors)', () => {
  const file = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  assert.equal(file, errorTable(), 'docs/errors.md is stale: run npm run docs:errors');
  for (const code of [...Object.keys(CATALOGUE), 'E_NO_SANDBOX']) assert.match(file, new RegExp(`^\\| \`${code}\` \\| `, 'm'));
  assert.match(file, /\| `E_UNDECLARED_PATH` \| \{method\} \{path\}: no capability covers this path with "\{access\}" access; declare it in capabilities\.paths of index\.json \|/);
});
