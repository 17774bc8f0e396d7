// Part of `npm run build`: bundles the CLI (src/cli/main.ts) into one CommonJS file, dist/bundle/main.cjs, which
// bin/updates.js loads with require when it exists (else the compiled dist/cli/). One file, not a tree of ES
// modules: Node 20's ES module loader takes a turn of its own for each module it resolves, links and evaluates,
// and a run's start went through some 45 of them (start to the run's first line, steady run of 100 modules:
// 241 ms as ES module chunks, 188 ms as this file). Commands stay lazy all the same: esbuild evaluates a module
// reached only by a dynamic import() when that import runs, so --version, --help and the light commands evaluate
// no more than they need. Left outside, resolved from node_modules at run time: esbuild (a native binary),
// piscina and ses (the sandbox side, which runs the compiled dist/sandbox/ and the prebuilt bundles, not this
// one) and pino-pretty (loaded by pino's transport worker by name).
// Also run by a self-update in the staged release, as the sandbox user, with dist/bundle/ lent to it: so it
// empties that folder rather than removing it.
import { build } from 'esbuild';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const BUNDLE_DIR = path.join(root, 'dist', 'bundle');

// The sources are ES modules: `import.meta.url` (how code finds the package it belongs to) becomes this file's
// own URL. pino starts its transport worker from files it finds beside its own sources (__dirname, which a bundle
// has not): they are given here. The worker paths are looked up only when a transport starts (a terminal).
const banner = `const __updatesImportMetaUrl = require('node:url').pathToFileURL(__filename).href;
globalThis.__bundlerPathsOverrides ??= {
  get 'pino-worker'() { return require.resolve('pino/lib/worker.js'); },
  get 'thread-stream-worker'() { return require.resolve('thread-stream/lib/worker.js'); },
};`;

await mkdir(BUNDLE_DIR, { recursive: true });
await Promise.all((await readdir(BUNDLE_DIR)).map((f) => rm(path.join(BUNDLE_DIR, f), { recursive: true, force: true })));
await build({
  entryPoints: [path.join(root, 'src', 'cli', 'main.ts')],
  outfile: path.join(BUNDLE_DIR, 'main.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  define: { 'import.meta.url': '__updatesImportMetaUrl' },
  banner: { js: banner },
  external: ['esbuild', 'piscina', 'ses', 'pino-pretty', '@napi-rs/nice'],
});
process.stderr.write(`CLI bundle written to ${BUNDLE_DIR}\n`);
