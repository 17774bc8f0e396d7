// Preloaded into every test file's process by scripts/run-tests.mjs: gives each test() and it() that sets no
// timeout of its own a deadline, so a test that hangs fails by name and the rest of its file still runs.
// Node 20's --test-timeout bounds a whole file, not each test in it, hence this.
import { createRequire, syncBuiltinESMExports } from 'node:module';

const timeout = Number(process.env.UPDATES_TEST_TIMEOUT_MS ?? 900_000);
const require = createRequire(import.meta.url);
const nodeTest = require('node:test');

/** test/it with `{ timeout }` added to its options when it gives none. */
function withTimeout(original) {
  const wrapped = function (...args) {
    const at = args.findIndex((a) => typeof a === 'object' && a !== null);
    if (at === -1) {
      const fn = args.findIndex((a) => typeof a === 'function');
      args.splice(fn === -1 ? args.length : fn, 0, { timeout });
    } else if (args[at].timeout === undefined) {
      args[at] = { ...args[at], timeout };
    }
    return original.apply(this, args);
  };
  for (const key of Object.keys(original)) wrapped[key] = original[key];
  return wrapped;
}

if (Number.isFinite(timeout) && timeout > 0) {
  nodeTest.test = withTimeout(nodeTest.test);
  nodeTest.it = withTimeout(nodeTest.it);
  syncBuiltinESMExports();
}
