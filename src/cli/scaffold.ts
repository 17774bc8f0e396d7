/**
 * The files `updates new-module` writes: a module that validates, type-checks and runs as written, and, for a
 * module repository that has none yet, the tsconfig, lint config, .gitignore, package.json and root index.json it needs.
 */
import { readFileSync } from 'node:fs';
import { METADATA_DEFAULTS } from '../core/manifest.js';
import { packagePath } from '../core/package-root.js';

/** The first version a new module gets. */
export const FIRST_VERSION = '0.1.0';

/** A module's index.json with every metadata field at its default and an empty capabilities block. */
export function manifestFile(name: string): string {
  const manifest = {
    metadata: { schema_version: FIRST_VERSION, name, ...METADATA_DEFAULTS },
    configuration: {},
    capabilities: { paths: [], commands: [], services: [] },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** A module's index.ts: main() over the SDK, idempotent, check-mode aware. */
export function entryFile(name: string): string {
  return `/**
 * ${name}: say here what this module keeps in line on the server.
 *
 * main() runs on every cycle, so it changes only what differs and says whether it changed anything. Every path,
 * command and service it uses is declared in index.json's "capabilities"; anything else is refused.
 * Try it: updates run-module modules/${name}   Plan it: updates run-module modules/${name} --check --diff
 */
import { clock, log, run } from 'updates-orchestrator/sdk';
import type { ModuleResult } from 'updates-orchestrator/sdk';

export async function main(args: string[] = []): Promise<ModuleResult> {
  const { iso } = await clock.now();
  await log.info(\`${name}: \${run.check ? 'planning' : 'running'} at \${iso}\${args.length > 0 ? \` with \${args.join(' ')}\` : ''}\`);
  return { success: true, changed: false, message: 'nothing to do yet' };
}
`;
}

/** tsconfig.json of a module repository: NodeNext (relative imports end in .js), strict, no Node types (modules have no Node). */
export const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2022'],
      types: [],
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      isolatedModules: true,
      skipLibCheck: true,
      noEmit: true,
    },
    include: ['modules'],
  },
  null,
  2,
)}\n`;

/** eslint.config.mjs: type-checked rules, above all no floating promises (an SDK call not awaited may be lost). */
export const ESLINT_CONFIG = `// Lint of the modules: typescript-eslint's type-checked rules. no-floating-promises matters most: an SDK call that
// is not awaited may still be in flight when main() returns, and its failure goes unseen.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.updates-dev/', '**/.updates-dev/', 'node_modules/', 'eslint.config.mjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
);
`;

/** Lines every module repository's .gitignore needs: run-module's scratch folders and the dependencies. */
export const GITIGNORE_LINES = ['.updates-dev/', 'node_modules/'] as const;

/** This package's own package.json: the versions a module repository's dev dependencies pin. */
function ownPackage(): { version: string; devDependencies: Record<string, string> } {
  return JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };
}

/** package.json of a module repository: ESM (so NodeNext checks .js suffixes), the orchestrator as a dev dependency. */
export function packageFile(repoName: string): string {
  const own = ownPackage();
  const dev = (n: string): string => own.devDependencies[n] ?? '*';
  const pkg = {
    name: repoName,
    private: true,
    type: 'module',
    scripts: { validate: 'updates validate', typecheck: 'tsc -p .', lint: 'eslint .' },
    devDependencies: { 'eslint': dev('eslint'), 'typescript': dev('typescript'), 'typescript-eslint': dev('typescript-eslint'), 'updates-orchestrator': `^${own.version}` },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/**
 * The repository's root index.json. Its schema_version is the orchestrator release the repository carries: a run
 * self-updates when it is newer than the running one, so a modules-only repository keeps the version it runs.
 */
export function rootIndexFile(orchestratorVersion: string): string {
  return `${JSON.stringify({ metadata: { schema_version: orchestratorVersion, channel: 'stable' } }, null, 2)}\n`;
}
