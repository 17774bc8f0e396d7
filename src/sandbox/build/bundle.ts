// Bundles a module's TypeScript into one CommonJS source string that the sandbox can evaluate in a Compartment.
import { access, realpath } from 'node:fs/promises';
import path from 'node:path';
import type { BuildFailure, Message } from 'esbuild';
import { UpdatesError } from '../../core/errors.js';
import { importPolicy, isInside, POLICY_PLUGIN, SDK_SPECIFIER } from './import-policy.js';
import { findRefusedSource } from './source-check.js';

/** Entry files tried in order. */
const ENTRY_FILES = ['index.ts', 'index.js'] as const;

async function findEntry(moduleDir: string, moduleName: string): Promise<string> {
  for (const name of ENTRY_FILES) {
    const file = path.join(moduleDir, name);
    if (!(await access(file).then(() => true, () => false))) continue;
    // The entry is no import, so the import policy does not see it: it must be a file of the folder too.
    const [root, real] = await Promise.all([realpath(moduleDir), realpath(file)]);
    if (!isInside(root, real)) throw new UpdatesError('E_BUILD', { module: moduleName, detail: `${name} resolves to ${real}, outside the module folder; the entry point must be a file of the module` });
    return real;
  }
  throw new UpdatesError('E_BUILD', { module: moduleName, detail: `no ${ENTRY_FILES.join(' or ')} in the module folder` });
}

/** One esbuild message as "file:line:column: text"; the policy's own messages already name the file. */
function describeMessage(message: Message): string {
  if (message.pluginName === POLICY_PLUGIN || message.location === null) return message.text;
  const { file, line, column } = message.location;
  return `${file}:${line}:${column + 1}: ${message.text}`;
}

function isBuildFailure(err: unknown): err is BuildFailure {
  return err instanceof Error && Array.isArray((err as Partial<BuildFailure>).errors);
}

/**
 * Bundles `<moduleDir>/index.ts` (or index.js) with esbuild into one CommonJS source string.
 *
 * `updates-orchestrator/sdk` stays an external `require()`; any other import that is not a file of the module's
 * own folder is refused (see import-policy.ts), as is source text the SES compartment would refuse at run time.
 * Every refusal and syntax error is an `UpdatesError('E_BUILD')` that names the file and says what to use instead.
 */
export async function bundleModule(moduleDir: string, moduleName: string): Promise<string> {
  const entry = await findEntry(moduleDir, moduleName);
  let code: string;
  try {
    // Loaded here, not at start-up: a run with nothing to install never needs esbuild.
    const { build } = await import('esbuild');
    const result = await build({
      entryPoints: [entry],
      absWorkingDir: path.resolve(moduleDir),
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'neutral',
      target: 'es2022',
      treeShaking: true,
      // Inline, without the sources: the worker maps a module's stack frames to index.ts:LINE:COL with it, and
      // base64 text cannot trip the sandbox's source checks (sourcesContent would carry comments that could).
      sourcemap: 'inline',
      sourcesContent: false,
      legalComments: 'none',
      external: [SDK_SPECIFIER],
      plugins: [importPolicy(moduleDir)],
      logLevel: 'silent',
    });
    code = result.outputFiles[0]?.text ?? '';
  } catch (err) {
    if (!isBuildFailure(err)) throw err;
    const detail = err.errors.map(describeMessage).join('; ') || err.message;
    throw new UpdatesError('E_BUILD', { module: moduleName, detail }, { cause: err });
  }
  const refused = findRefusedSource(code);
  if (refused !== undefined) throw new UpdatesError('E_BUILD', { module: moduleName, detail: refused });
  return code;
}
