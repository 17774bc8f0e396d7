// The error catalogue: its codes are a stable interface (reports, metrics, scripts match on them), so the list
// is pinned here; and every code the source names exists in the catalogue.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { CATALOGUE, UpdatesError, plainErrorSchema } from '../../src/core/errors.js';
import type { ErrorCode } from '../../src/core/errors.js';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Every code, in catalogue order. Adding or renaming a code is a change users see: update this list with it. */
const CODES = [
  'E_USAGE', 'E_CONFIG', 'E_LOCKED',
  'E_SYNC_UNREACHABLE', 'E_SYNC_NO_BRANCH', 'E_SYNC_REWRITTEN', 'E_UNSIGNED', 'E_FETCH_TOO_LARGE',
  'E_MANIFEST_INVALID', 'E_ROOT_INDEX_INVALID', 'E_MODULE_NAME', 'E_MODULE_CONTENT', 'E_BUILD', 'E_INSTALL',
  'E_NOT_INSTALLED', 'E_NO_PREVIOUS', 'E_SELF_UPDATE',
  'E_LEGACY_MANIFEST', 'E_CHECKSUM', 'E_LEGACY_CHILD',
  'E_MODULE_FAILED', 'E_MODULE_TIMEOUT', 'E_MODULE_MEMORY', 'E_MODULE_EXITED', 'E_SANDBOX_MEMORY', 'E_SANDBOX_LOST', 'E_MODULE_RESULT',
  'E_BAD_REQUEST', 'E_UNDECLARED_PATH', 'E_PATH_ESCAPE', 'E_UNDECLARED_OWNER', 'E_SPECIAL_BITS', 'E_UNDECLARED_COMMAND',
  'E_UNDECLARED_SERVICE', 'E_LIMIT', 'E_RUN_ENDED', 'E_NOT_FOUND', 'E_BACKUP_NOT_FOUND', 'E_BACKUP_CORRUPT', 'E_IO', 'E_INTERNAL',
];

/** The SDK's own code for a call made outside the orchestrator (the SDK imports nothing of the catalogue). */
const SDK_ONLY = new Set(['E_NO_SANDBOX']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = path.join(dir, e);
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.(ts|mjs)$/.test(e) ? [p] : [];
  });
}

test('the catalogue holds exactly the pinned codes', () => {
  assert.deepEqual(Object.keys(CATALOGUE), CODES);
});

test('every error code named in src/ is in the catalogue', () => {
  const strangers = new Map<string, string>();
  for (const file of sourceFiles(SRC)) {
    for (const [, code] of readFileSync(file, 'utf8').matchAll(/['"`](E_[A-Z][A-Z0-9_]+)['"`]/g)) {
      if (code === undefined || code in CATALOGUE || SDK_ONLY.has(code)) continue;
      strangers.set(code, path.relative(SRC, file));
    }
  }
  assert.deepEqual([...strangers], [], 'these codes are raised or matched but not in src/core/errors.ts');
});

test('every message fills its placeholders, and an error crosses as the one plain shape', () => {
  for (const code of Object.keys(CATALOGUE) as ErrorCode[]) {
    const template = CATALOGUE[code].toString();
    assert.ok(template.length > 0);
    const err = new UpdatesError(code, new Proxy({}, { get: (_t, k) => (typeof k === 'string' ? `<${k}>` : undefined) }));
    assert.doesNotMatch(err.message, /\{\w+\}/, `${code} leaves a placeholder unfilled`);
    assert.equal(plainErrorSchema.safeParse(err.toWire()).success, true);
  }
});
