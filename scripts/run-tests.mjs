// Runs the test files under the given folders (default: test/) with node's test runner and tsx.
// Node 20's runner does not discover .ts files by itself, hence this list.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir).sort()) {
    const p = join(dir, entry);
    if (entry === 'fixtures' || entry === 'node_modules') continue;
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.test.ts')) files.push(p);
  }
};
for (const root of roots.length > 0 ? roots : ['test']) {
  if (statSync(root).isFile()) files.push(root);
  else walk(root);
}
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
// Every test gets a deadline (scripts/test-timeout.mjs; UPDATES_TEST_TIMEOUT_MS, default 900 s, generous since
// a self-update test on a loaded 2-core machine takes minutes), so one that hangs fails by name instead of
// stalling the whole suite (and CI); --test-force-exit ends a file once its tests are done, even when a hung
// test left a timer or a child behind.
const preload = new URL('./test-timeout.mjs', import.meta.url).href;
const res = spawnSync(process.execPath, ['--import', 'tsx', '--import', preload, '--test', '--test-force-exit', '--test-concurrency=2', ...passthrough, ...files], {
  stdio: 'inherit',
});
process.exit(res.status ?? 1);
