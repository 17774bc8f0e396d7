// Process isolation (sandbox layer 4) with real child processes: the user, the group, the permission model, memory.
import assert from 'node:assert/strict';
import { existsSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/core/logger.js';
import { SandboxPool } from '../../src/sandbox/supervisor/pool.js';
import type { SandboxPoolOptions } from '../../src/sandbox/supervisor/pool.js';
import { FakeBroker, job } from './helpers.js';
import { commandLine, groupMembers, ownMemoryCgroupChildren, processGroup, sandboxHosts, statusField } from './proc.js';

const PROBE_WORKER = fileURLToPath(new URL('./probe-worker.ts', import.meta.url));
const BROKEN_WORKER = fileURLToPath(new URL('./broken-worker.ts', import.meta.url));
const OK = 'module.exports.main = async () => ({ success: true, message: "fine" });';
/** A module whose first act is an SDK request. */
// clock.now(), not a log line: the worker answers a log line itself, and this request must wait for the broker.
const ASKS = 'const { clock } = require("updates-orchestrator/sdk"); module.exports.main = async () => { await clock.now(); return { success: true }; };';

const pools: SandboxPool[] = [];
after(() => Promise.all(pools.map((p) => p.destroy())));

function processPool(options: Partial<SandboxPoolOptions> = {}): SandboxPool {
  const pool = new SandboxPool({ size: 2, logger: silentLogger(), isolation: 'process', ...options });
  pools.push(pool);
  return pool;
}

/** The one sandbox process this test process has right now. */
function onlyHost(): number {
  const hosts = sandboxHosts();
  assert.equal(hosts.length, 1, `one sandbox process expected, found ${hosts.length}`);
  return hosts[0] as number;
}

test('the sandbox process runs as nobody, with no supplementary groups, in its own process group', async () => {
  const pool = processPool();
  assert.equal((await pool.run(job('ok', OK))).status, 'ok');
  const host = onlyHost();
  assert.deepEqual(statusField(host, 'Uid'), ['65534', '65534', '65534', '65534']);
  assert.deepEqual(statusField(host, 'Gid'), ['65534', '65534', '65534', '65534']);
  assert.deepEqual(statusField(host, 'Groups'), []);
  assert.equal(processGroup(host), host, 'detached: it leads its own group');
  await pool.destroy();
});

test('destroy() kills the whole group: no process of it, no cgroup and no bundle folder remain', async () => {
  const pool = processPool();
  assert.equal((await pool.run(job('ok', OK))).status, 'ok');
  const host = onlyHost();
  const hostFile = commandLine(host).find((a) => a.endsWith('host.cjs'));
  assert.ok(hostFile !== undefined, 'the bundled host file is on its command line');
  const bundleDir = path.dirname(hostFile);
  assert.equal(statSync(bundleDir).mode & 0o777, 0o755);
  const cgroups = ownMemoryCgroupChildren();
  await pool.destroy();
  assert.deepEqual(groupMembers(host), []);
  assert.deepEqual(ownMemoryCgroupChildren().filter((c) => cgroups.includes(c)), [], 'its memory cgroup is removed');
  assert.deepEqual(sandboxHosts(), []);
  assert.equal(existsSync(bundleDir), false);
  assert.equal(existsSync(path.join('/proc', String(host))), false);
});

test('the permission model denies writes, reads outside the bundle, child processes; the uid denies signalling main', async () => {
  const target = path.join(os.tmpdir(), `updates-probe-${process.pid}`);
  const pool = processPool({ workerEntry: PROBE_WORKER, size: 1 });
  const unsealed = await pool.run(job('probe', '', { args: [target, 'unsealed'] }));
  const report = JSON.parse(unsealed.result?.message ?? '{}') as Record<string, unknown>;
  // Measured on Node 24: in a process run as a non-root user, worker threads are not held to --allow-fs-read
  // (the main thread is). There the sandbox user's own file permissions are what limits reads (SECURITY.md).
  const readsConfined = Number(process.versions.node.split('.')[0]) < 22;
  assert.deepEqual({ ...report, nestedWorker: undefined, builtinWorker: undefined, readShadow: undefined, readEtc: readsConfined ? report['readEtc'] : 'n/a' }, {
    uid: 65534, gid: 65534, envKeys: 0,
    write: 'denied:ERR_ACCESS_DENIED', readEtc: readsConfined ? 'denied:ERR_ACCESS_DENIED' : 'n/a', spawn: 'denied:ERR_ACCESS_DENIED', killParent: 'denied:EPERM',
    nestedWorker: undefined, builtinWorker: undefined, readShadow: undefined,
  });
  assert.match(String(report['readShadow']), /^denied:/, 'a file the sandbox user may not read stays unreadable');
  assert.equal(existsSync(target), false);
  // Without the seal, Node < 24 lets a Worker with execArgv [] run outside the permission model (ARCHITECTURE.md);
  // even then it is the sandbox user that writes.
  if (report['nestedWorker'] === 'allowed') assert.equal(statSync(`${target}-nested`).uid, 65534);
  rmSync(`${target}-nested`, { force: true });
  await pool.destroy();
});

test('the real worker seals Worker creation, so the execArgv escape is refused too', async () => {
  const target = path.join(os.tmpdir(), `updates-probe-sealed-${process.pid}`);
  const pool = processPool({ workerEntry: PROBE_WORKER, size: 1 });
  const outcome = await pool.run(job('probe', '', { args: [target] }));
  const report = JSON.parse(outcome.result?.message ?? '{}') as Record<string, unknown>;
  assert.equal(report['nestedWorker'], 'denied:ERR_ACCESS_DENIED');
  assert.equal(report['builtinWorker'], 'denied:ERR_ACCESS_DENIED');
  assert.equal(existsSync(`${target}-nested`), false);
  await pool.destroy();
});

test('a sandbox process that stops answering is killed at main\'s own deadline; the next job gets a new process', async () => {
  const pool = processPool();
  assert.equal((await pool.run(job('ok', OK))).status, 'ok');
  const host = onlyHost();
  // The module's first SDK request proves its task started; the broker then stops the process, which can
  // neither run its own deadline nor answer: only main's deadline (timeout + grace) is left.
  const broker = new FakeBroker(() => {
    process.kill(host, 'SIGSTOP');
    return new Promise<never>(() => undefined);
  });
  const outcome = await pool.run(job('asks', ASKS, { timeoutMs: 500, broker }));
  assert.equal(outcome.status, 'timeout');
  assert.equal((await pool.run(job('ok', OK))).status, 'ok');
  assert.notEqual(onlyHost(), host);
  assert.deepEqual(groupMembers(host), []);
  await pool.destroy();
});

test('a worker that cannot start fails the waiting modules with its error, instead of each waiting out the start bound', async () => {
  const pool = processPool({ workerEntry: BROKEN_WORKER, size: 1 });
  const outcomes = await Promise.all(['a', 'b', 'c'].map((name) => pool.run(job(name, OK))));
  for (const o of outcomes) {
    assert.equal(o.status, 'failed');
    assert.match(o.error?.message ?? '', /a sandbox worker failed before it could start the module: .*this worker cannot start/);
  }
  await pool.destroy();
});
