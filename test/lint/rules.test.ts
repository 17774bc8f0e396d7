// The lint config is part of the design: it keeps src/ free of floating promises and keeps the layers one-way.
// Each probe is a real file in src/, linted with the project's own config through ESLint's API.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const PROJECT = fileURLToPath(new URL('../../', import.meta.url));

/** Lints `text` as a file at `rel` (inside src/, so the typed rules see it in the program) and returns the rule ids. */
async function rulesFiredOn(rel: string, text: string): Promise<string[]> {
  const file = path.join(PROJECT, rel);
  writeFileSync(file, text);
  try {
    // The probe's text changes between calls in one process: typescript-eslint's single-run mode (taken by itself
    // when CI=true) would keep the first program and type the new text against the old one.
    const eslint = new ESLint({ cwd: PROJECT, overrideConfig: { languageOptions: { parserOptions: { disallowAutomaticSingleRunInference: true } } } });
    const [result] = await eslint.lintFiles([file]);
    return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
  } finally {
    rmSync(file, { force: true });
  }
}

test('a floating promise in src/ fails the lint; the same promise awaited passes', async () => {
  const floating = await rulesFiredOn(`src/core/lint-probe-${process.pid}.ts`, 'export function f(): void {\n  Promise.resolve(1);\n}\n');
  assert.deepEqual(floating, ['@typescript-eslint/no-floating-promises']);
  const awaited = await rulesFiredOn(`src/core/lint-probe-${process.pid}.ts`, 'export async function f(): Promise<void> {\n  await Promise.resolve(1);\n}\n');
  assert.deepEqual(awaited, []);
});

test('imports against the layers fail the lint', async () => {
  const up = await rulesFiredOn(`src/broker/lint-probe-${process.pid}.ts`, "import { EXIT } from '../core/exit-codes.js';\nimport { performRun } from '../orchestrator/run.js';\nexport const x = [EXIT, performRun];\n");
  assert.deepEqual(up, ['no-restricted-imports']);
  const sdk = await rulesFiredOn(`src/sdk/lint-probe-${process.pid}.ts`, "import { DEFAULTS } from '../core/defaults.js';\nexport const x = DEFAULTS;\n");
  assert.deepEqual(sdk, ['no-restricted-imports']);
});

test('classic zod fails the lint in src/, however it is imported; zod/mini passes', async () => {
  for (const text of ["import { z } from 'zod';\nexport const s = z.string();\n", "import * as z from 'zod';\nexport const s = z.string();\n"]) {
    assert.deepEqual(await rulesFiredOn(`src/core/lint-probe-${process.pid}.ts`, text), ['no-restricted-syntax'], text);
  }
  const mini = await rulesFiredOn(`src/core/lint-probe-${process.pid}.ts`, "import * as z from 'zod/mini';\nexport const s = z.string();\n");
  assert.deepEqual(mini, []);
});
