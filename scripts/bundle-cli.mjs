// Part of `npm run build`: bundles the CLI (src/cli/main.ts) into dist/bundle/, so that start-up reads a few
// files instead of the compiled tree and its dependencies file by file (bin/updates.js prefers the bundle).
// ESM with code splitting: each command stays a dynamic import of its own chunk, so --version, --help and the
// light commands load no more than they need. Left outside, resolved from node_modules at run time: esbuild (a
// native binary), piscina and ses (the sandbox side, which runs the compiled dist/sandbox/ and the prebuilt
// bundles, not this one) and pino-pretty (loaded by pino's transport worker by name).
// Also run by a self-update in the staged release, as the sandbox user, with dist/bundle/ lent to it: so it
// empties that folder rather than removing it.
import { build } from 'esbuild';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const BUNDLE_DIR = path.join(root, 'dist', 'bundle');

// Bundled CommonJS (pino, semver, simple-git) calls require() for Node's built-ins; and pino starts its transport
// worker from files it finds beside its own sources (__dirname, which a bundle has not): both are given here,
// at the top of every output file. The worker paths are looked up only when a transport starts (a terminal).
const banner = `import { createRequire as __updatesCreateRequire } from 'node:module';
const require = __updatesCreateRequire(import.meta.url);
globalThis.__bundlerPathsOverrides ??= {
  get 'pino-worker'() { return require.resolve('pino/lib/worker.js'); },
  get 'thread-stream-worker'() { return require.resolve('thread-stream/lib/worker.js'); },
};`;

await mkdir(BUNDLE_DIR, { recursive: true });
await Promise.all((await readdir(BUNDLE_DIR)).map((f) => rm(path.join(BUNDLE_DIR, f), { recursive: true, force: true })));
await build({
  entryPoints: { main: path.join(root, 'src', 'cli', 'main.ts') },
  outdir: BUNDLE_DIR,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  banner: { js: banner },
  external: ['esbuild', 'piscina', 'ses', 'pino-pretty', '@napi-rs/nice'],
});
process.stderr.write(`CLI bundle written to ${BUNDLE_DIR}\n`);
