// Attacks that try to reach the host from module code: built-ins, process, workers, the inspector, dynamic code, foreign files.
import type { Attack } from '../attack.js';
import { hostile } from '../attack.js';

/** A module that imports a Node built-in statically: the bundler must refuse it, so it is never activated. */
const importing = (name: string, category: string, importLine: string, use: string): Attack => ({
  name,
  category,
  expect: 'build',
  source: () => `${importLine}\nimport { config } from 'updates-orchestrator/sdk';\nexport async function main() {\n  ${use}\n  return { success: true, message: 'REACHED' };\n}\n`,
});

export const HOST_REACH: Attack[] = [
  importing('fs-import', 'direct file write', `import { writeFileSync } from 'node:fs';`,
    `writeFileSync((config as { sentinel: string }).sentinel, 'PWNED');`),
  importing('fs-import-bare', 'direct file write', `import * as fs from 'fs/promises';`,
    `await fs.writeFile((config as { sentinel: string }).sentinel, 'PWNED');`),
  {
    name: 'fs-without-import',
    category: 'direct file write',
    source: () => hostile(`
  const proc = await reachHost();
  if (proc) await attempt('writeFileSync through the reached process', () => { builtin(proc, 'fs').writeFileSync(cfg.sentinel, LOOT); return 'written'; });
  await attempt('globalThis require of "fs"', () => { (globalThis as any)['req' + 'uire']('fs').writeFileSync(cfg.sentinel, LOOT); return 'written'; });
  await attempt('module require of a computed "fs"', () => { const r = require; (r(['f', 's'].join('')) as any).writeFileSync(cfg.sentinel, LOOT); return 'written'; });
  await attempt('Deno / Bun / fs globals', () => (globalThis as any).Deno ?? (globalThis as any).Bun ?? (globalThis as any).fs);
  return done();`),
  },
  importing('child-process-import', 'spawning a shell', `import { execSync } from 'node:child_process';`,
    `execSync('touch ' + (config as { sentinel: string }).sentinel);`),
  {
    name: 'child-process-without-import',
    category: 'spawning a shell',
    source: () => hostile(`
  const proc = await reachHost();
  if (proc) await attempt('execSync through the reached process', () => builtin(proc, 'child_process').execSync('echo ' + LOOT + ' > ' + cfg.sentinel).toString() || 'ran');
  await attempt('module require of a computed "child_process"', () => { const r = require; return (r(['child', 'process'].join('_')) as any).execSync('id').toString(); });
  await attempt('SDK exec of an undeclared shell', () => sdk.exec(['/bin/sh', '-c', 'echo ' + LOOT + ' > ' + cfg.sentinel]));
  await attempt('SDK exec of an undeclared bare sh', () => sdk.exec(['sh', '-c', 'id']));
  return done();`),
  },
  {
    name: 'worker-execargv-escape',
    category: 'the execArgv: [] worker escape',
    source: () => hostile(`
  const code = ['req', 'uire'].join('') + "('fs').writeFileSync(" + JSON.stringify(cfg.sentinel) + ", " + JSON.stringify(LOOT) + ")";
  const spawnWorker = (W: any) => { const w = new W(code, { eval: true, execArgv: [] }); return w ? 'worker started' : undefined; };
  await attempt('globalThis.Worker', () => spawnWorker((globalThis as any).Worker));
  await attempt('globalThis.SharedWorker', () => spawnWorker((globalThis as any).SharedWorker));
  await attempt('module require of a computed "worker_threads"', () => { const r = require; return spawnWorker((r(['worker', 'threads'].join('_')) as any).Worker); });
  const proc = await reachHost();
  if (proc) await attempt('worker_threads through the reached process', () => spawnWorker(builtin(proc, 'worker_threads').Worker));
  return done();`),
  },
  {
    name: 'inspector-hop',
    category: 'inspector hop into the main thread',
    source: () => hostile(`
  const expression = "process.getBuiltinModule('fs').writeFileSync(" + JSON.stringify(cfg.sentinel) + ", " + JSON.stringify(LOOT) + ")";
  const hop = (inspector: any) => {
    const s = new inspector.Session();
    s.connectToMainThread();
    s.post('Runtime.evaluate', { expression });
    return 'session posted';
  };
  await attempt('globalThis.inspector', () => hop((globalThis as any).inspector));
  await attempt('module require of a computed "inspector"', () => { const r = require; return hop(r(['insp', 'ector'].join(''))); });
  const proc = await reachHost();
  if (proc) {
    await attempt('inspector through the reached process', () => hop(builtin(proc, 'inspector')));
    await attempt('process._debugProcess(pid) (SIGUSR1)', () => { proc._debugProcess(proc.pid); return 'signalled'; });
  }
  await attempt('SDK exec of an undeclared kill -USR1', () => sdk.exec(['kill', '-USR1', String(cfg.hostPid)]));
  return done();`),
  },
  {
    name: 'kill-orchestrator',
    category: 'killing the orchestrator',
    source: () => hostile(`
  const proc = await reachHost();
  if (proc) {
    await attempt('process.kill(process.pid)', () => { proc.kill(proc.pid, 'SIGKILL'); return 'sent'; });
    await attempt('process.kill(process.ppid)', () => { proc.kill(proc.ppid, 'SIGKILL'); return 'sent'; });
  }
  await attempt('globalThis.process.kill', () => { (globalThis as any).process.kill((globalThis as any).process.pid); return 'sent'; });
  await attempt('SDK exec of an undeclared kill -9 <orchestrator pid>', () => sdk.exec(['kill', '-9', String(cfg.hostPid)]));
  await attempt('SDK exec of an undeclared /bin/kill', () => sdk.exec(['/bin/kill', '-KILL', String(cfg.hostPid)]));
  return done();`),
  },
  {
    name: 'early-exit',
    category: 'early process.exit(0)',
    // No try/catch around the exits that would turn a refusal into a report: main must end without success.
    source: () => hostile(`
  const proc = await reachHost();
  if (proc) { proc.exit(0); proc.reallyExit?.(0); }
  (globalThis as any).process.exit(0);
  return { success: true, message: 'exited?' };`),
  },
  {
    name: 'constructor-chains',
    category: 'dynamic code (constructor chains)',
    source: () => hostile(`
  // Every known path, not only up to the first that works.
  for (const [name, get] of hostPaths) await attempt(name, get);
  await attempt('log.info.constructor.constructor("return process")()', () => (sdk.log.info as any).constructor.constructor('return process')());
  await attempt('rejected promise error .constructor.constructor', async () => {
    try { await Promise.reject(new TypeError('x')); } catch (e) { return (e as any).constructor.constructor('return process')(); }
    return undefined;
  });
  await attempt('SdkError instance constructor chain', async () => {
    try { await sdk.services.restart('not-declared'); } catch (e) { return (e as any).__proto__.constructor.constructor('return process')(); }
    return undefined;
  });
  await attempt('sloppy caller walk from main', () => Function('f', 'try { return f.caller && f.caller.constructor("return process")(); } catch (e) { return undefined; }')(main));
  return done();`),
  },
  {
    name: 'dynamic-code',
    category: 'dynamic code (eval, Function, import())',
    source: () => hostile(`
  const ev = (0, eval);
  await attempt('indirect eval of process', () => ev('typeof process === "undefined" ? undefined : process'));
  await attempt('indirect eval of require', () => ev('typeof require === "undefined" ? undefined : require'));
  await attempt('Function with(this) scope', () => Function('with (this) { return typeof process === "undefined" ? undefined : process; }')());
  await attempt('eval of a computed dynamic import', async () => await ev(['imp', 'ort("node:fs")'].join('')));
  await attempt('Function of a computed dynamic import', async () => await Function(['return imp', 'ort("node:child_process")'].join(''))());
  await attempt('Compartment.import("fs")', async () => await new (globalThis as any).Compartment().import('fs'));
  await attempt('Compartment with a hostile importHook', async () => {
    const C = (globalThis as any).Compartment;
    const c = new C({}, {}, { resolveHook: (s: string) => s, importHook: async () => { throw new Error('no loader'); } });
    return (await c.import('node:fs')).namespace;
  });
  await attempt('eval in a new Compartment', () => new (globalThis as any).Compartment().evaluate('typeof process === "undefined" ? undefined : process'));
  const proc = await reachHost();
  if (proc) await attempt('write through the reached process', () => { builtin(proc, 'fs').writeFileSync(cfg.sentinel, LOOT); return 'written'; });
  return done();`),
  },
  {
    name: 'dynamic-import-literal',
    category: 'dynamic code (eval, Function, import())',
    expect: 'build',
    source: () => `export async function main() {\n  const fs = await import('node:fs');\n  fs.writeFileSync('/tmp/x', 'PWNED');\n  return { success: true };\n}\n`,
  },
  {
    name: 'import-outside-folder',
    category: 'imports outside its own folder',
    expect: 'build',
    files: () => ({ 'lib/evil/index.ts': `export const evil = (): string => 'REACHED';\n` }),
    source: () => `import { evil } from '../../lib/evil/index.js';\nexport async function main() {\n  return { success: true, message: evil() };\n}\n`,
  },
  {
    name: 'import-other-module',
    category: 'imports outside its own folder',
    expect: 'build',
    source: () => `import { main as canaryMain } from '../canary/index.js';\nexport async function main() {\n  await canaryMain();\n  return { success: true, message: 'REACHED the canary' };\n}\n`,
  },
  {
    name: 'import-through-symlink',
    category: 'imports outside its own folder',
    expect: 'build',
    files: () => ({ 'lib/evil/index.ts': `export const evil = (): string => 'REACHED';\n` }),
    links: { 'modules/attacker/evil.ts': '../../lib/evil/index.ts' },
    source: () => `import { evil } from './evil.js';\nexport async function main() {\n  return { success: true, message: evil() };\n}\n`,
  },
];
