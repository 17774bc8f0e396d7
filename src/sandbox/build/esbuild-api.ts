// esbuild's API, for everything that builds: module bundles, the sandbox's own bundles, a self-update's release.
import { createRequire } from 'node:module';
import type * as Esbuild from 'esbuild';

/**
 * esbuild's API, loaded at its first use: a run with nothing to build never needs it. Through require, not
 * import(): esbuild ships CommonJS, which import() first scans for its named exports (measured here: 25-40 ms
 * to load through import(), about 10 through require).
 */
export const esbuildApi = (): typeof Esbuild => createRequire(import.meta.url)('esbuild') as typeof Esbuild;
