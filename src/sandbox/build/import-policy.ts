// The esbuild plugin that decides, at build time, what a module may import: the SDK and files in its own folder.
import { realpathSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import type { OnResolveArgs, OnResolveResult, Plugin } from 'esbuild';

/** The one package a module may import; it becomes the SDK endowment at run time. */
export const SDK_SPECIFIER = 'updates-orchestrator/sdk';
/** Name under which the policy's refusals appear in esbuild messages. */
export const POLICY_PLUGIN = 'updates-import-policy';

const OWN_FOLDER_ONLY = `modules may import only '${SDK_SPECIFIER}' and files in their own folder`;

/** Built-ins whose job the SDK does, and the SDK call to use instead. */
const SDK_ALTERNATIVE: Readonly<Record<string, string>> = {
  fs: `use fs.readFile/writeFile from '${SDK_SPECIFIER}'`,
  'fs/promises': `use fs.readFile/writeFile from '${SDK_SPECIFIER}'`,
  child_process: `use exec() of a declared command from '${SDK_SPECIFIER}'`,
};

const BUILTINS = new Set(builtinModules);

/** True for `node:x` and for bare built-in names such as `fs` or `fs/promises`. */
function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0] ?? '');
}

/** The advice that goes with refusing a built-in. */
function builtinAdvice(specifier: string): string {
  const name = specifier.replace(/^node:/, '');
  return SDK_ALTERNATIVE[name] ?? SDK_ALTERNATIVE[name.split('/')[0] ?? ''] ?? OWN_FOLDER_ONLY;
}

/** The realpath of `file`, or `file` itself when it has none (it does not exist). */
function realpathOr(file: string): string {
  try {
    return realpathSync.native(file);
  } catch {
    return file;
  }
}

/** Whether `file` (a realpath) lies inside `root` (a realpath). */
export function isInside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Builds the plugin for one module folder, or for the folders of a batch of modules bundled by one esbuild
 * call. Every import goes through it: the SDK stays external, relative imports are resolved by esbuild and then
 * checked by realpath (so a symlink cannot lead out of the folder), and everything else, including dynamic
 * `import()` and `require.resolve`, is refused with advice. In a batch, each file is held to the folder of the
 * module it belongs to (the one whose folder holds the importer, on disk): no module reaches another's files.
 */
export function importPolicy(moduleDirs: string | readonly string[]): Plugin {
  const dirs = typeof moduleDirs === 'string' ? [moduleDirs] : [...moduleDirs];
  return {
    name: POLICY_PLUGIN,
    setup(build) {
      let folders: { dir: string; root: string }[] = [];
      // realpath is called directly, not through the thread pool: one system call, where the pool may be busy
      // with the fsyncs of an install going on meanwhile.
      build.onStart(() => {
        folders = dirs.map((dir) => ({ dir, root: realpathSync.native(dir) }));
      });
      // The folder of the module a file (a realpath) belongs to. With one folder, every file is held to it.
      const folderOf = (file: string): { dir: string; root: string } | undefined => (folders.length === 1 ? folders[0] : folders.find((f) => isInside(f.root, file)));
      const refuse = (args: OnResolveArgs, why: string): OnResolveResult => {
        const dir = folderOf(args.importer)?.dir;
        const from = args.importer === '' ? '(entry)' : dir === undefined ? args.importer : path.relative(dir, args.importer);
        return { errors: [{ text: `${from} imports '${args.path}': ${why}`, pluginName: POLICY_PLUGIN }] };
      };
      build.onResolve({ filter: /.*/ }, async (args): Promise<OnResolveResult | undefined> => {
        // Our own nested build.resolve() call below comes back through here; let esbuild resolve it.
        if (args.pluginData === POLICY_PLUGIN || args.kind === 'entry-point') return undefined;
        if (args.kind === 'dynamic-import') return refuse(args, `dynamic import() is not allowed; ${OWN_FOLDER_ONLY}, imported statically`);
        if (args.kind === 'require-resolve') return refuse(args, `require.resolve() is not allowed; ${OWN_FOLDER_ONLY}`);
        if (args.path === SDK_SPECIFIER) return { path: SDK_SPECIFIER, external: true };
        if (isBuiltin(args.path)) return refuse(args, `Node built-in modules are not available to modules; ${builtinAdvice(args.path)}`);
        if (!args.path.startsWith('.') && !path.isAbsolute(args.path)) return refuse(args, `packages are not available; ${OWN_FOLDER_ONLY}`);
        const folder = folderOf(args.importer);
        if (folder === undefined) return refuse(args, `the importing file is outside the module folder; ${OWN_FOLDER_ONLY}`);
        const resolved = await build.resolve(args.path, {
          importer: args.importer,
          resolveDir: args.resolveDir,
          kind: args.kind,
          pluginData: POLICY_PLUGIN,
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        const real = realpathOr(resolved.path);
        if (!isInside(folder.root, real)) return refuse(args, `the file is outside the module folder; ${OWN_FOLDER_ONLY}`);
        return { path: real };
      });
      // Whatever esbuild reads (the entry point included) must be, on disk, a file of the module's folder: of the
      // folder its path lies in (entry points and resolved imports are realpaths already).
      build.onLoad({ filter: /.*/ }, (args) => {
        const real = realpathOr(args.path);
        const folder = folderOf(args.path);
        if (folder !== undefined && isInside(folder.root, real)) return undefined;
        const shown = folder === undefined ? args.path : path.relative(folder.dir, args.path);
        return { errors: [{ text: `${shown} resolves to ${real}, outside the module folder; ${OWN_FOLDER_ONLY}`, pluginName: POLICY_PLUGIN }] };
      });
    },
  };
}
