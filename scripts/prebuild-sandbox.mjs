// Part of `npm run build`: bundles the sandbox process's code once, beside the compiled code, so that a run
// copies it instead of running esbuild at every start (see src/sandbox/supervisor/bundle-host.ts).
import { PREBUILT_DIR, prebuildHost } from '../dist/sandbox/supervisor/bundle-host.js';

await prebuildHost();
process.stderr.write(`sandbox bundles written to ${PREBUILT_DIR}\n`);
