// Lint rules for the whole tree: type-checked rules from typescript-eslint, no console in library code, and the
// one-way layers of src/ (cli → orchestrator → broker | sandbox → core; sdk stands alone).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * src/ uses zod/mini, with zod's English messages (core/zod-messages.ts): classic zod's schemas bind every method
 * to every instance as they are built, and classic zod itself is more code that each start of `updates` loads.
 */
const zodNamespace = {
  selector: "ImportDeclaration[source.value='zod']",
  message: "use import * as z from 'zod/mini' (and import '../core/zod-messages.js' where its issues reach people)",
};

/** Forbids imports from the given folders (globs relative to the importing file's own folder are not enough). */
const forbid = (message, ...groups) => ({
  'no-restricted-imports': ['error', { patterns: groups.map((group) => ({ group, message })) }],
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.demo/', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // main() and the SDK are promise-based by contract; an async function without await is fine there.
      '@typescript-eslint/require-await': 'off',
      'no-console': 'error',
    },
  },
  {
    // Hostile fixtures do unsafe things on purpose; they are still checked for floating promises.
    files: ['test/fixtures/**'],
    rules: {
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-implied-eval': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    // The CLI entry, scripts, tests and hostile fixtures may print.
    files: ['src/cli/**', 'scripts/**', 'test/**', 'bin/**'],
    rules: { 'no-console': 'off' },
  },
  { files: ['src/**/*.ts'], rules: { 'no-restricted-syntax': ['error', zodNamespace] } },
  // The layers. Each folder may import only from the layers below it.
  { files: ['src/core/**'], rules: forbid('src/core is the bottom layer: it imports only libraries.', ['**/orchestrator/**', '**/broker/**', '**/sandbox/**', '**/cli/**', '**/sdk/**']) },
  { files: ['src/sdk/**'], rules: forbid('src/sdk imports only itself and zod: module authors load it.', ['../*', '!./*']) },
  { files: ['src/broker/**', 'src/sandbox/**'], rules: forbid('broker/ and sandbox/ sit below orchestrator/ and cli/.', ['**/orchestrator/**', '**/cli/**']) },
  { files: ['src/orchestrator/**'], rules: forbid('orchestrator/ sits below cli/.', ['**/cli/**']) },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
);
