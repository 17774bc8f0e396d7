// Attacks on the orchestrator's resources: time, memory, stack, blocking, leftover processes, floods, sizes, late calls.
import { existsSync, writeFileSync } from 'node:fs';
import { DEFAULTS } from '../../../src/core/defaults.js';
import type { Attack } from '../attack.js';
import { DEFAULT_CAPABILITIES, hostile } from '../attack.js';
import type { World } from '../world.js';

const MB = 1024 * 1024;

/** Capabilities with extra declared commands (the attacker's other grants stay the defaults). */
const withCommands = (...commands: string[][]) => ({ ...DEFAULT_CAPABILITIES, commands: [...DEFAULT_CAPABILITIES.commands, ...commands] });

/** A long-lived shell whose command line carries the attack's token, so the suite can find it in /proc. */
const marked = (w: World, seconds: number): string => `sleep ${seconds}; : ${w.token}`;

export const RESOURCES: Attack[] = [
  {
    name: 'cpu-spin',
    category: 'CPU spin',
    manifest: () => ({ timeout_seconds: 2 }),
    source: () => hostile(`  for (;;) { /* spin until the deadline */ }`),
  },
  {
    name: 'never-settles',
    category: 'never-settling promise',
    manifest: () => ({ timeout_seconds: 2 }),
    source: () => hostile(`  await new Promise(() => undefined);\n  return done();`),
  },
  {
    name: 'heap-bomb',
    category: 'heap bomb',
    manifest: () => ({ max_memory_mb: 64, timeout_seconds: 60 }),
    source: () => hostile(`
  const hoard: string[] = [];
  for (let i = 0; ; i++) hoard.push('x'.repeat(1024) + String(i));`),
  },
  {
    name: 'off-heap-bomb',
    category: 'off-heap bomb',
    manifest: () => ({ max_memory_mb: 64, timeout_seconds: 60 }),
    // Bounded at 1 GiB (16x the declared limit) so a product without an off-heap cap shows it without endangering the host.
    source: () => hostile(`
  const hoard: ArrayBuffer[] = [];
  let mb = 0;
  try {
    while (mb < 1024) {
      const buf = new ArrayBuffer(${16 * MB});
      const view = new Uint8Array(buf);
      for (let i = 0; i < view.length; i += 4096) view[i] = 1; // touch every page so it is really resident
      hoard.push(buf);
      mb += 16;
    }
  } catch (e) {
    return { success: false, message: 'stopped after ' + mb + ' MB off-heap: ' + errText(e) };
  }
  return { success: true, message: 'REACHED ' + mb + ' MB off-heap (' + hoard.length + ' buffers) with a 64 MB limit' };`),
  },
  {
    name: 'stack-overflow',
    category: 'stack overflow',
    // Uncaught runaway recursion: main must end as a failure, not take the worker or the host with it.
    source: () => hostile(`
  const down = (n: number): number => down(n + 1) + 1;
  return { success: down(0) > 0, message: 'unreachable' };`),
  },
  {
    name: 'deep-request',
    category: 'stack overflow',
    manifest: () => ({ timeout_seconds: 3 }),
    // Values nested deeper than any validator's stack, sent through the SDK at the host's deserializer and broker.
    source: () => hostile(`
  let deep: unknown = 'leaf';
  for (let i = 0; i < 200000; i++) deep = [deep];
  await attempt('store.set of a value nested 200000 deep', () => sdk.store.set('deep', deep as any).then(() => 'stored'));
  let mid: unknown = 'leaf';
  for (let i = 0; i < 5000; i++) mid = { a: mid };
  await attempt('store.set of a value nested 5000 deep', () => sdk.store.set('mid', mid as any).then(() => 'stored'));
  return done();`),
  },
  {
    name: 'blocking-atomics',
    category: 'blocking syscall',
    manifest: () => ({ timeout_seconds: 2 }),
    // No syscall is reachable from a compartment; Atomics.wait is the one blocking primitive JavaScript has.
    source: () => hostile(`
  const A = (globalThis as any).Atomics;
  const SAB = (globalThis as any).SharedArrayBuffer;
  await attempt('Atomics.wait on a SharedArrayBuffer', () => A.wait(new Int32Array(new SAB(4)), 0, 0));
  await attempt('Atomics through a WebAssembly shared memory', () => {
    const mem = new (globalThis as any).WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return A.wait(new Int32Array(mem.buffer), 0, 0);
  });
  return done();`),
  },
  {
    name: 'blocking-exec',
    category: 'blocking syscall',
    manifest: (w) => ({ timeout_seconds: 2, capabilities: withCommands(['/bin/sh', '-c', marked(w, 600)]) }),
    // A declared command that blocks for 10 minutes: the module's deadline must end it, and its process group with it.
    source: (w) => hostile(`
  await attempt('a declared command that blocks for 600 s', () => sdk.exec(['/bin/sh', '-c', ${JSON.stringify(marked(w, 600))}]));
  return done();`),
  },
  {
    name: 'orphan-daemon',
    category: 'orphan daemon',
    manifest: (w) => ({
      capabilities: withCommands(
        ['/bin/sh', '-c', `/bin/sh -c "${marked(w, 300)}" >/dev/null 2>&1 &`],
        ['/bin/sh', '-c', `(/bin/sh -c "${marked(w, 301)}" &) ; exit 0`],
        ['/usr/bin/nohup', '/bin/sh', '-c', marked(w, 302)],
      ),
    }),
    source: (w) => hostile(`
  for (const argv of [
    ['/bin/sh', '-c', ${JSON.stringify(`/bin/sh -c "${marked(w, 300)}" >/dev/null 2>&1 &`)}],
    ['/bin/sh', '-c', ${JSON.stringify(`(/bin/sh -c "${marked(w, 301)}" &) ; exit 0`)}],
  ]) await attempt('background daemon ' + argv[2], async () => { await sdk.exec(argv); return undefined; });
  await attempt('nohup daemon cut by its own timeout', async () => { await sdk.exec(['/usr/bin/nohup', '/bin/sh', '-c', ${JSON.stringify(marked(w, 302))}], { timeoutMs: 500 }); return undefined; });
  return done();`),
  },
  {
    name: 'orphan-daemon-setsid',
    category: 'orphan daemon',
    manifest: (w) => ({
      capabilities: withCommands(
        ['/usr/bin/setsid', '-f', '/bin/sh', '-c', marked(w, 303)],
        ['/bin/sh', '-c', `setsid /bin/sh -c "${marked(w, 304)}" >/dev/null 2>&1 </dev/null & sleep 1`],
      ),
    }),
    // setsid leaves the command's process group (and session): killing the group cannot reach it.
    source: (w) => hostile(`
  // The shell waits a second, so setsid() has surely run before the command ends and its group is killed.
  await attempt('sh & setsid daemon', async () => { await sdk.exec(['/bin/sh', '-c', ${JSON.stringify(`setsid /bin/sh -c "${marked(w, 304)}" >/dev/null 2>&1 </dev/null & sleep 1`)}]); return undefined; });
  // Last: its daemon keeps the command's stdout open, so this exec may not return before the module's deadline.
  await attempt('setsid -f daemon', async () => { await sdk.exec(['/usr/bin/setsid', '-f', '/bin/sh', '-c', ${JSON.stringify(marked(w, 303))}], { timeoutMs: 2000 }); return undefined; });
  return done();`),
  },
  {
    name: 'sdk-flood',
    category: 'SDK flood',
    manifest: () => ({ timeout_seconds: 60 }),
    source: () => hostile(`
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < 100000; i++) calls.push(i % 2 === 0 ? sdk.store.get('k') : sdk.log.info('flood ' + i));
  const settled = await Promise.allSettled(calls);
  const burst = settled.filter((s) => s.status === 'fulfilled').length;
  let serial = 0;
  for (let i = 0; i < 20000; i++) {
    try { await sdk.store.keys(); serial++; } catch { break; }
  }
  lines.push('burst of 100000: ' + burst + ' served; then ' + serial + ' awaited calls served');
  // The broker's cap is 10000 requests per run: more served than that is a flood that got through.
  if (burst + serial > 10000) { reached = true; lines.push('REACHED more than 10000 served'); }
  return done();`),
    // Bounded: one audit line per request up to the first one over the broker's cap (which says the cap was
    // reached), then one line for all the rest; and a line of the module's own only for a log request the broker
    // served. How many of the burst's log calls are served before the in-flight cap refuses the rest depends on
    // timing (a few hundred to a few thousand), so the two are counted apart rather than against one total.
    check: (_w, o) => {
      const attacker = o.logs.filter((l) => l['module'] === 'attacker');
      const audit = attacker.filter((l) => l['audit'] === true).length;
      const own = attacker.filter((l) => l['moduleLog'] === true).length;
      const problems: string[] = [];
      if (audit > DEFAULTS.brokerMaxRequests + 2) problems.push(`the flood wrote ${audit} audit lines for the attacker (the audit is not capped)`);
      if (own > DEFAULTS.brokerMaxRequests) problems.push(`the flood wrote ${own} log lines of the attacker's own, more than the broker serves a run`);
      return problems;
    },
  },
  {
    name: 'oversized-payload',
    category: 'oversized payloads and results',
    manifest: () => ({ max_memory_mb: 512, timeout_seconds: 60 }),
    setup: (w) => {
      // A 64 MB file inside the attacker's own grant: reading it must hit the size limit, not the host's memory.
      writeFileSync(w.host('/srv/demo/big'), Buffer.alloc(64 * MB, 0x61));
    },
    source: () => hostile(`
  const huge = 'x'.repeat(${64 * MB});
  await attempt('fs.writeFile of 64 MB', () => sdk.fs.writeFile('/srv/demo/huge', huge).then(() => 'written'));
  await attempt('store.set of 64 MB', () => sdk.store.set('huge', huge).then(() => 'stored'));
  await attempt('exec input of 64 MB', () => sdk.exec(['uname', '-sr'], { input: huge }).then(() => 'ran'));
  await attempt('log of 64 MB', () => sdk.log.info(huge).then(() => 'logged'));
  await attempt('fs.readFile of a 64 MB file', () => sdk.fs.readFile('/srv/demo/big').then((s) => s.length > 4 * 1024 * 1024 ? 'read ' + s.length : undefined));
  return done();`),
    check: (w) => {
      return existsSync(w.host('/srv/demo/huge')) ? ['a 64 MB file was written'] : [];
    },
  },
  {
    name: 'oversized-result',
    category: 'oversized payloads and results',
    // It claims success, with a 10 MB message: the orchestrator must refuse the result, not store it.
    source: () => `export async function main() {\n  return { success: true, message: 'x'.repeat(${10 * MB}) };\n}\n`,
    check: (_w, o) => {
      const size = JSON.stringify(o.report).length;
      return size > 256 * 1024 ? [`the run report is ${size} bytes: the oversized result got in`] : [];
    },
  },
  {
    name: 'late-sdk-calls',
    category: 'SDK calls after the run ended',
    source: () => hostile(`
  // One call in flight as main returns, then calls made after main returned, at growing microtask depths.
  void sdk.fs.writeFile('/srv/demo/late-inflight', LOOT).catch(() => undefined);
  let p: Promise<unknown> = Promise.resolve();
  for (let d = 0; d < 64; d++) {
    p = p.then(() => { void sdk.fs.writeFile('/srv/demo/late-' + d, LOOT).catch(() => undefined); void sdk.store.set('late-' + d, d).catch(() => undefined); });
  }
  return { success: false, message: 'late calls kicked off' };`),
    check: (_w, o) => {
      // The log is in event order: any request of the attacker allowed after the pool reported its outcome acted after the run ended.
      const ended = o.logs.findIndex((l) => l['module'] === 'attacker' && typeof l['msg'] === 'string' && /^✗/.test(l['msg']));
      if (ended < 0) return ['the attacker outcome line is missing from the log'];
      const late = o.logs.slice(ended).filter((l) => l['module'] === 'attacker' && l['audit'] === true && l['decision'] === 'allowed');
      return late.map((l) => `a request acted on after the run ended: ${String(l['method'])} ${JSON.stringify(l['path'] ?? l['key'] ?? '')}`);
    },
  },
];
