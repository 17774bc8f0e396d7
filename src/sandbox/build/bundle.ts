// Bundles a module's TypeScript into one CommonJS source string that the sandbox can evaluate in a Compartment.
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { BuildFailure, BuildOptions, Message } from 'esbuild';
import { UpdatesError } from '../../core/errors.js';
import { esbuildApi } from './esbuild-api.js';
import { importPolicy, isInside, POLICY_PLUGIN, SDK_SPECIFIER } from './import-policy.js';
import { findRefusedSource } from './source-check.js';

/** Entry files tried in order. */
const ENTRY_FILES = ['index.ts', 'index.js'] as const;

/** The module's entry file, by its realpath. Synchronous: a few system calls, cheaper than thread-pool round trips. */
function findEntry(moduleDir: string, moduleName: string): string {
  for (const name of ENTRY_FILES) {
    const file = path.join(moduleDir, name);
    if (!existsSync(file)) continue;
    // The entry is no import, so the import policy does not see it: it must be a file of the folder too.
    const root = realpathSync.native(moduleDir);
    const real = realpathSync.native(file);
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

/** The esbuild options every module is bundled with, whether alone or in a batch. */
const MODULE_BUILD: BuildOptions & { write: false } = {
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
  logLevel: 'silent',
};

/**
 * Bundles `<moduleDir>/index.ts` (or index.js) with esbuild into one CommonJS source string.
 *
 * `updates-orchestrator/sdk` stays an external `require()`; any other import that is not a file of the module's
 * own folder is refused (see import-policy.ts), as is source text the SES compartment would refuse at run time.
 * Every refusal and syntax error is an `UpdatesError('E_BUILD')` that names the file and says what to use instead.
 */
export async function bundleModule(moduleDir: string, moduleName: string): Promise<string> {
  const entry = findEntry(moduleDir, moduleName);
  let code: string;
  try {
    const { build } = esbuildApi();
    const result = await build({ ...MODULE_BUILD, entryPoints: [entry], absWorkingDir: path.resolve(moduleDir), plugins: [importPolicy(moduleDir)] });
    code = result.outputFiles[0]?.text ?? '';
  } catch (err) {
    if (!isBuildFailure(err)) throw err;
    const detail = err.errors.map(describeMessage).join('; ') || err.message;
    throw new UpdatesError('E_BUILD', { module: moduleName, detail }, { cause: err });
  }
  return checkedSource(code, moduleName);
}

function checkedSource(code: string, moduleName: string): string {
  const refused = findRefusedSource(code);
  if (refused !== undefined) throw new UpdatesError('E_BUILD', { module: moduleName, detail: refused });
  return code;
}

/** A module folder to bundle, and the module's name (for messages). */
export interface ModuleToBundle { dir: string; name: string }
/** The outcome for one module of a batch: its bundle, or why it has none (what bundleModule would throw). */
export type BundleOutcome = { code: string } | { err: unknown };

// Phase 1 builds the modules it stages together through this (see BuildModule.many).
bundleModule.many = bundleModules;

/**
 * Loads esbuild's API and starts its service process (both happen at the first build otherwise: about 40 ms on
 * the way of the first batch), for Phase 1 to call when a new commit is fetched. Never throws: a build that
 * follows reports any problem itself.
 */
bundleModule.warm = (): void => {
  try {
    void esbuildApi().transform('').catch(() => undefined);
  } catch {
    // esbuild cannot load: the build that follows says so.
  }
};

/** The name, in each module's folder, under which a batch build places that module's output (never written). */
const BATCH_OUTPUT = '.updates-bundle';

/**
 * Bundles several module folders at once: one esbuild call with one entry point per module, each held to its own
 * folder by the import policy. Same options as bundleModule; each output is placed in its module's folder (so
 * source map paths are relative to it) and the per-file comments esbuild writes are made relative to it. For
 * folders named as Phase 1 stages them (`.staging-…`), each bundle is, to the byte, what bundleModule(dir) gives;
 * elsewhere esbuild may name a root index file's exports object after the folder (`ok_exports`), nothing else.
 * When the batch fails (a module refused, a syntax error), its modules are bundled one by one, so each failure is
 * that module's own E_BUILD and the others build.
 */
export async function bundleModules(modules: readonly ModuleToBundle[]): Promise<BundleOutcome[]> {
  const outcomes: (BundleOutcome | undefined)[] = new Array<BundleOutcome | undefined>(modules.length);
  const batch: { i: number; dir: string; entry: string }[] = [];
  for (const [i, m] of modules.entries()) {
    try {
      batch.push({ i, dir: path.resolve(m.dir), entry: findEntry(m.dir, m.name) });
    } catch (err) {
      outcomes[i] = { err };
    }
  }
  const alone = async (i: number): Promise<void> => {
    const m = modules[i] as ModuleToBundle;
    outcomes[i] = await bundleModule(m.dir, m.name).then((code) => ({ code }), (err: unknown) => ({ err }));
  };
  if (batch.length === 1) await alone((batch[0] as { i: number }).i);
  else if (batch.length > 1) {
    const base = commonFolder(batch.map((b) => b.dir));
    const outputOf = (dir: string): string => path.join(dir, `${BATCH_OUTPUT}.js`);
    let texts: Map<string, string> | undefined;
    try {
      const { build } = esbuildApi();
      const result = await build({
        ...MODULE_BUILD,
        entryPoints: batch.map((b) => ({ in: b.entry, out: path.relative(base, path.join(b.dir, BATCH_OUTPUT)) })),
        absWorkingDir: base,
        outdir: base,
        plugins: [importPolicy(batch.map((b) => b.dir))],
      });
      texts = new Map(result.outputFiles.map((f) => [f.path, f.text]));
    } catch {
      texts = undefined;
    }
    for (const b of batch) {
      const text = texts?.get(outputOf(b.dir));
      if (text === undefined) {
        await alone(b.i);
        continue;
      }
      const m = modules[b.i] as ModuleToBundle;
      try {
        outcomes[b.i] = { code: checkedSource(withOwnPaths(text, path.relative(base, b.dir)), m.name) };
      } catch (err) {
        outcomes[b.i] = { err };
      }
    }
  }
  return outcomes.map((o) => o ?? { err: new Error('not bundled') });
}

/** The deepest folder that holds every one of `dirs` (absolute paths). */
function commonFolder(dirs: readonly string[]): string {
  let base = dirs[0] ?? path.sep;
  while (!dirs.every((d) => d === base || d.startsWith(base.endsWith(path.sep) ? base : `${base}${path.sep}`))) base = path.dirname(base);
  return base;
}

/**
 * esbuild starts each source file's code with a comment naming the file relative to the working folder; a batch
 * works in the modules' common folder, so the names carry the module's folder (`rel`) first. Made relative to the
 * module's folder, as in a build of the module alone. Only whole comment lines that start with the folder match.
 */
function withOwnPaths(code: string, rel: string): string {
  const prefix = `\n// ${rel.split(path.sep).join('/')}/`;
  return `\n${code}`.split(prefix).join('\n// ').slice(1);
}
