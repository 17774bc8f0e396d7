// Attacks through the SDK itself: traversal, symlinks and races, undeclared capabilities, smuggled arguments, identity, secrets, pivots, pollution.
import { lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Attack } from '../attack.js';
import { DEFAULT_CAPABILITIES, hostile } from '../attack.js';
import { plantLink, NOBODY } from '../world.js';
import type { World } from '../world.js';

/** Probes a write: the module cannot see where it landed, so the suite's loot scan and watched files judge it. */
const WRITE_HELPER = `
async function tryWrite(name: string, p: string): Promise<void> {
  try { await sdk.fs.writeFile(p, LOOT); lines.push(name + ': accepted (the suite checks where it landed)'); }
  catch (e) { lines.push(name + ': blocked (' + errText(e).slice(0, 200) + ')'); }
}
/** A read REACHED something when it returns what only lies outside the grants. */
const outsideText = (s: string) => /outside secret|sentinel|root:x?:0:0|root:[^:]*:\\d+:/.test(s) ? s : undefined;
`;

/** Every file and folder under /srv/demo with a setuid/setgid/sticky bit, and owned.txt's owner if it changed. */
function smuggledBits(w: World): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      const st = lstatSync(p);
      if ((st.mode & 0o7000) !== 0) found.push(`${p} has mode ${(st.mode & 0o7777).toString(8)}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(w.host('/srv/demo'));
  const owned = lstatSync(w.host('/srv/demo/owned.txt'));
  if (owned.uid !== NOBODY || owned.gid !== NOBODY) found.push(`owned.txt is now owned by ${owned.uid}:${owned.gid}`);
  return found;
}

/** Swaps <root>/srv/demo/race between a folder inside the grant and a link to the outside folder, as fast as the loop turns. */
function racer(w: World): () => void {
  const race = w.host('/srv/demo/race');
  const inside = w.host('/srv/demo/race-inside');
  const tmp = w.host('/srv/demo/.race-tmp');
  let flip = false;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    try {
      symlinkSync(flip ? w.host('/etc/outside') : inside, tmp);
      renameSync(tmp, race);
    } catch {
      // a module request may hold the name for a moment; try on the next turn
    }
    flip = !flip;
    setImmediate(tick);
  };
  setImmediate(tick);
  return () => {
    stopped = true;
  };
}

export const SDK_ABUSE: Attack[] = [
  {
    name: 'sdk-path-traversal',
    category: 'SDK path traversal',
    source: (w) => hostile(`${WRITE_HELPER}
  const ups = '../'.repeat(40);
  for (const p of [
    '/srv/demo/../../etc/outside/secret', '/srv/demo/../../etc/outside/new1', '/srv/demo/./../demo/../../etc/outside/new2',
    '//srv/demo/../../etc/outside/new3', '/srv/demo/x/../../../etc/outside/new4', '/srv/ro/../demo/../../etc/outside/new5',
    '/srv/demo/%2e%2e/%2e%2e/etc/outside/new6', '/srv/demo/..%2f..%2fetc%2foutside%2fnew7', '/srv/demo/\\u2025/\\u2025/etc/outside/new8',
    '/srv/demo/..\\\\..\\\\etc\\\\outside\\\\new9', '/srv/demo/../ro/data', '/srv/demo/..', '/srv/demo-evil/x', '/srv/demox',
    'srv/demo/../../etc/outside/new10', '/srv/demo/' + ups + 'tmp/uo-sec-' + cfg.token + '/watched', ${JSON.stringify(w.sentinel)},
    '/srv/demo/' + 'a/'.repeat(2100) + 'deep',
  ]) await tryWrite('write ' + p.slice(0, 80), p);
  for (const p of [
    '/srv/demo/../../etc/outside/secret', '/srv/ro/../../etc/outside/secret', '/srv/demo/' + ups + 'etc/passwd', '/etc/passwd',
    '/srv/demo/%2e%2e/%2e%2e/etc/outside/secret', '/srv/ro/' + ups + 'etc/shadow', '/srv/demo/' + ups + 'tmp/uo-sec-' + cfg.token + '/watched',
  ]) await attempt('read ' + p.slice(0, 80), async () => outsideText(await sdk.fs.readFile(p)));
  await attempt('exists through ..', () => sdk.fs.exists('/srv/demo/../../etc/outside/secret'));
  await attempt('remove through ..', () => sdk.fs.remove('/srv/demo/../ro/data'));
  await attempt('mkdir through ..', () => sdk.fs.mkdir('/srv/demo/../../etc/outside/made'));
  await attempt('chmod through ..', () => sdk.permissions.set([{ path: '/srv/demo/../../etc/outside/secret', mode: 0o666 }]).then((r) => r.changed));
  await attempt('backup through ..', () => sdk.state.backup('trav', ['/srv/demo/../../etc/outside']).then((b) => b.files));
  return done();`),
  },
  {
    name: 'sdk-symlink-escape',
    category: 'SDK symlink and swap-after-check race',
    setup: (w) => {
      plantLink(w, '/srv/demo/link-dir', w.host('/etc/outside'));
      plantLink(w, '/srv/demo/link-file', w.host('/etc/outside/secret'));
      plantLink(w, '/srv/demo/link-rel', '../../etc/outside/secret');
      plantLink(w, '/srv/demo/link-sentinel', w.sentinel);
      plantLink(w, '/srv/demo/link-ro', w.host('/srv/ro/data'));
      plantLink(w, '/srv/demo/link-host-etc', '/etc');
      plantLink(w, '/srv/demo/dangling', w.host('/etc/outside/created-through-dangling'));
      plantLink(w, '/srv/demo/loop', 'loop');
    },
    source: () => hostile(`${WRITE_HELPER}
  for (const p of ['/srv/demo/link-dir/secret', '/srv/demo/link-dir/new', '/srv/demo/link-file', '/srv/demo/link-rel', '/srv/demo/link-sentinel',
    '/srv/demo/link-ro', '/srv/demo/link-host-etc/uo-sec-' + cfg.token, '/srv/demo/dangling', '/srv/demo/loop'])
    await tryWrite('write ' + p, p);
  for (const p of ['/srv/demo/link-dir/secret', '/srv/demo/link-file', '/srv/demo/link-rel', '/srv/demo/link-sentinel', '/srv/demo/link-host-etc/passwd'])
    await attempt('read ' + p, async () => outsideText(await sdk.fs.readFile(p)));
  await attempt('chmod through a link', () => sdk.permissions.set([{ path: '/srv/demo/link-file', mode: 0o666 }]).then((r) => r.changed));
  await attempt('chown through a link', () => sdk.permissions.set([{ path: '/srv/demo/link-dir', owner: ${NOBODY}, recursive: true }]).then((r) => r.changed));
  await attempt('recursive chmod of the grant (links inside)', async () => { await sdk.permissions.set([{ path: '/srv/demo', mode: '0777', recursive: true }]); return undefined; });
  await attempt('mkdir through a link', () => sdk.fs.mkdir('/srv/demo/link-dir/made'));
  await attempt('remove through a link', () => sdk.fs.remove('/srv/demo/link-dir/secret'));
  await attempt('backup then restore of a grant with links', async () => {
    await sdk.state.backup('links', ['/srv/demo']);
    await sdk.state.restore('links');
    return undefined;
  });
  return done();`),
  },
  {
    name: 'sdk-swap-race',
    category: 'SDK symlink and swap-after-check race',
    setup: (w) => {
      mkdirSync(w.host('/srv/demo/race-inside'), { recursive: true });
      writeFileSync(w.host('/srv/demo/race-inside/secret'), 'inside\n');
      symlinkSync(w.host('/srv/demo/race-inside'), w.host('/srv/demo/race'));
    },
    during: racer,
    manifest: () => ({ timeout_seconds: 60 }),
    source: () => hostile(`${WRITE_HELPER}
  let accepted = 0;
  for (let i = 0; i < 300; i++) {
    try { await sdk.fs.writeFile('/srv/demo/race/secret', LOOT); accepted++; } catch { /* refused this turn */ }
    await attempt('read during the race', async () => { const s = await sdk.fs.readFile('/srv/demo/race/secret'); return /outside secret/.test(s) ? s : undefined; });
    try { await sdk.permissions.set([{ path: '/srv/demo/race/secret', mode: 0o666 }]); } catch { /* refused */ }
    try { await sdk.fs.mkdir('/srv/demo/race/made-' + i); } catch { /* refused */ }
    try { await sdk.fs.remove('/srv/demo/race/made-' + (i - 1)); } catch { /* refused */ }
  }
  lines.push(accepted + ' of 300 writes accepted; the suite checks where they landed');
  // Only the outcome lines that reached something are worth keeping out of 300 rounds.
  const kept = lines.filter((l) => l.includes('REACHED') || l.includes('accepted'));
  lines.length = 0;
  lines.push(...kept);
  return done();`),
  },
  {
    name: 'undeclared-capability',
    category: 'undeclared capability',
    source: () => hostile(`${WRITE_HELPER}
  await tryWrite('write an undeclared path', '/etc/outside/secret');
  await tryWrite('write a read-only grant', '/srv/ro/data');
  await attempt('read an undeclared path', async () => outsideText(await sdk.fs.readFile('/etc/outside/secret')));
  await attempt('read /etc/shadow', () => sdk.fs.readFile('/etc/shadow'));
  await attempt('exists on an undeclared path', () => sdk.fs.exists('/etc/outside/secret'));
  await attempt('mkdir undeclared', () => sdk.fs.mkdir('/srv/newdir'));
  await attempt('remove in a read-only grant', () => sdk.fs.remove('/srv/ro/data'));
  await attempt('chmod in a read-only grant', () => sdk.permissions.set([{ path: '/srv/ro/data', mode: 0o666 }]).then((r) => r.changed));
  await attempt('backup a read-only grant', () => sdk.state.backup('ro', ['/srv/ro']).then((b) => b.files));
  for (const argv of [['id'], ['uname'], ['uname', '-sr', '-a'], ['uname', '-sr '], ['uname', '-s', '-r'], ['/usr/bin/uname', '-sr'], ['sh', '-c', 'uname -sr'], ['uname', '-sr;id']])
    await attempt('exec ' + JSON.stringify(argv), () => sdk.exec(argv).then((r) => 'exit ' + r.exitCode + ' ' + r.stdout));
  for (const name of ['sshd', 'demo.service', 'demo;reboot', '../demo', 'demo ', 'Demo', 'demo\\nsshd'])
    await attempt('restart ' + JSON.stringify(name), () => sdk.services.restart(name).then((s) => s.state || 'restarted'));
  await attempt('reload sshd', () => sdk.services.reload('sshd').then((s) => s.state || 'reloaded'));
  await attempt('status sshd', () => sdk.services.status('sshd').then((s) => s.state || 'status'));
  return done();`),
    check: (w) => {
      let log = '';
      try {
        log = readFileSync(path.join(w.installRoot, 'state', 'services.log'), 'utf8');
      } catch {
        return [];
      }
      const names = log.split('\n').filter((l) => l.trim() !== '' && !/\bdemo\b/.test(l));
      return names.map((l) => `an undeclared service action was performed: ${l}`);
    },
  },
  {
    name: 'argument-smuggling',
    category: 'argument smuggling (getters, toJSON, NUL, setuid, uid 0)',
    source: () => hostile(`${WRITE_HELPER}
  const owned = '/srv/demo/owned.txt';
  const set = (t: any) => sdk.permissions.set([t]).then((r) => 'changed ' + r.changed);
  for (const owner of [0, 'root', '0', '00', ' 0', 'root ', 0.5, -1, 4294967295, '4294967295'])
    await attempt('chown to ' + JSON.stringify(owner), () => set({ path: owned, owner }));
  for (const group of [0, 'root', '0'])
    await attempt('chgrp to ' + JSON.stringify(group), () => set({ path: owned, group }));
  for (const mode of [0o4755, 0o2755, 0o1777, 0o6777, '4755', '04755', '2775', 0o104755, 'u+s', '+s', -1, 493.5, '0o4755', '7777'])
    await attempt('chmod ' + JSON.stringify(mode), () => set({ path: owned, mode }));
  await attempt('writeFile with mode 04755', () => sdk.fs.writeFile('/srv/demo/suid', '#!/bin/sh\\nid\\n', { mode: 0o4755 }).then(() => 'written'));
  await attempt('writeFile with mode "6755"', () => sdk.fs.writeFile('/srv/demo/sgid', '#!/bin/sh\\nid\\n', { mode: '6755' }).then(() => 'written'));
  await attempt('mkdir with mode 02775', () => sdk.fs.mkdir('/srv/demo/sgid-dir', { mode: 0o2775 }).then(() => 'made'));
  await attempt('restoreServicePermissionsSimple owner root', () => sdk.permissions.restoreServicePermissionsSimple({ owner: 'root', configDir: '/srv/demo' }).then(() => 'applied'));
  // A getter that answers an inside path to a checker and an outside one to whoever reads it next.
  let reads = 0;
  const twoFaced = { get path() { reads++; return reads === 1 ? '/srv/demo/plain.txt' : '/srv/demo/../../etc/outside/secret'; }, mode: 0o666 };
  try { await sdk.permissions.set([twoFaced as any]); lines.push('two-faced getter: accepted, getter read ' + reads + ' time(s)'); } catch (e) { lines.push('two-faced getter: blocked (' + errText(e) + ')'); }
  const jsonTrick = { path: '/srv/demo/plain.txt', mode: 0o644, toJSON() { return { path: '/etc/outside/secret', mode: 0o4777 }; } };
  await attempt('toJSON trick', () => set(jsonTrick));
  await attempt('Proxy as a target', () => set(new Proxy({ path: '/srv/demo/plain.txt', mode: 0o644 }, { get: (t: any, k) => (k === 'mode' ? 0o4777 : t[k]) })));
  await attempt('String object path', () => sdk.fs.writeFile(new String('/etc/outside/secret') as any, LOOT).then(() => 'written'));
  await attempt('array path', () => sdk.fs.writeFile(['/etc/outside/secret'] as any, LOOT).then(() => 'written'));
  await tryWrite('NUL in a path', '/srv/demo/x\\u0000/../../../etc/outside/secret');
  await attempt('NUL in an argv', () => sdk.exec(['uname', '-sr\\u0000-a']).then((r) => r.stdout));
  await attempt('NUL in a service name', () => sdk.services.restart('demo\\u0000sshd').then(() => 'restarted'));
  await attempt('extra exec options (shell, env, cwd)', () => sdk.exec(['uname', '-sr'], { shell: true, env: { LD_PRELOAD: '/tmp/x.so' }, cwd: '/' } as any).then((r) => r.stdout));
  await attempt('extra target key (follow)', () => set({ path: owned, owner: 0, follow: true }));
  await attempt('own __proto__ key in a target', () => set(JSON.parse('{"path":"/srv/demo/owned.txt","__proto__":{"owner":0,"mode":2541}}')));
  await attempt('constructor.prototype key in a target', () => set(JSON.parse('{"path":"/srv/demo/owned.txt","constructor":{"prototype":{"owner":0}}}')));
  return done();`),
    check: smuggledBits,
  },
  {
    name: 'impersonation',
    category: 'impersonating another module',
    source: () => hostile(`
  await attempt('exec with module: "canary"', () => sdk.exec(['uname', '-sr'], { module: 'canary', v: 1, id: 1 } as any).then(() => 'ran as canary'));
  await attempt('permissions target with module: "canary"', () => sdk.permissions.set([{ path: '/srv/demo/plain.txt', mode: 0o644, module: 'canary' } as any]).then(() => 'set as canary'));
  await attempt('store.set called with this = { module: "canary" }', async () => { await (sdk.store.set as any).call({ module: 'canary' }, 'owned-by', 'attacker'); return undefined; });
  await attempt("write the canary's store file", () => sdk.fs.writeFile(${JSON.stringify('/var/local/lib/updates/state/store/canary.json')}, '{"owned-by":"attacker"}').then(() => 'written'));
  await attempt("write the canary's grant", () => sdk.fs.writeFile('/srv/canary/ran', 'attacker').then(() => 'written'));
  await attempt('restore a label of another module', () => sdk.state.restore('../canary').then(() => 'restored'));
  await attempt('a second SDK from require is a different, writable object', () => { const r = require; const again: any = r('updates-orchestrator/sdk'); return Object.isFrozen(again) ? undefined : 'writable SDK'; });
  // Walks everything reachable from the SDK looking for the channel (a MessagePort) or anything that can post.
  await attempt('find a port in the SDK object graph', () => {
    const seen = new Set<unknown>();
    const todo: unknown[] = [sdk];
    while (todo.length > 0 && seen.size < 20000) {
      const v = todo.pop();
      if ((typeof v !== 'object' && typeof v !== 'function') || v === null || seen.has(v)) continue;
      seen.add(v);
      for (const k of Reflect.ownKeys(v as object)) {
        let child: unknown;
        try { child = Reflect.get(v as object, k); } catch { continue; }
        if ((k === 'postMessage' || k === 'send' || k === 'emit') && typeof child === 'function') return 'found ' + String(k) + ' on ' + typeof v;
        todo.push(child);
      }
      todo.push(Object.getPrototypeOf(v));
    }
    return undefined;
  });
  return done();`),
  },
  {
    name: 'secret-env',
    category: 'secret exfiltration (env, /proc)',
    manifest: () => ({ capabilities: { ...DEFAULT_CAPABILITIES, commands: [['/usr/bin/env'], ['/bin/cat', '/proc/self/environ']] } }),
    source: () => hostile(`
  const has = (s: unknown) => typeof s === 'string' && s.includes(cfg.secretName + '=') ? s : undefined;
  await attempt('globalThis.process.env', () => has(JSON.stringify((globalThis as any).process.env)));
  const proc = await reachHost();
  if (proc) await attempt('env of the reached process', () => has(JSON.stringify(proc.env)));
  await attempt('declared env command output', async () => has((await sdk.exec(['/usr/bin/env'])).stdout));
  await attempt('declared cat of its own environ', async () => has((await sdk.exec(['/bin/cat', '/proc/self/environ'])).stdout));
  return done();`),
  },
  {
    name: 'secret-proc',
    category: 'secret exfiltration (env, /proc)',
    source: () => hostile(`
  const has = (s: unknown) => typeof s === 'string' && s.includes(cfg.secretName + '=') ? s : undefined;
  for (const p of ['/proc/self/environ', '/proc/' + cfg.hostPid + '/environ', '/proc/1/environ', '/srv/demo/../../proc/self/environ'])
    await attempt('read ' + p, async () => has(await sdk.fs.readFile(p)));
  await attempt('exists /proc/self/environ', () => sdk.fs.exists('/proc/self/environ'));
  await attempt('backup /proc/self', () => sdk.state.backup('proc', ['/proc/self']).then((b) => b.files));
  return done();`),
  },
  {
    name: 'secret-proc-grant',
    category: 'secret exfiltration (env, /proc)',
    // A manifest that declares read on /proc. With --root / that is the real /proc; the suite maps <root>/proc to it.
    // Such a grant is refused when the module is read from the commit: the module never runs.
    expect: 'build',
    setup: (w) => symlinkSync('/proc', w.host('/proc')),
    manifest: () => ({ capabilities: { paths: [{ path: '/proc', access: ['read'] }] } }),
    source: () => hostile(`
  const has = (s: unknown) => typeof s === 'string' && s.includes(cfg.secretName + '=') ? s : undefined;
  for (const p of ['/proc/self/environ', '/proc/' + cfg.hostPid + '/environ', '/proc/thread-self/environ'])
    await attempt('read ' + p + ' under a declared /proc grant', async () => has(await sdk.fs.readFile(p)));
  // Not a secret by itself, but it shows whose /proc this is: logged, not counted.
  try { lines.push('the orchestrator cmdline: ' + (await sdk.fs.readFile('/proc/self/cmdline')).split(String.fromCharCode(0)).join(' ')); } catch (e) { lines.push('cmdline: blocked (' + errText(e) + ')'); }
  return done();`),
  },
  {
    name: 'secret-proc-symlinked-grant',
    category: 'secret exfiltration (env, /proc)',
    // An innocent-looking grant whose folder on the host is a symlink into /proc: the broker resolves the grant
    // root and refuses anything that lands in a kernel file system.
    setup: (w) => symlinkSync('/proc', w.host('/srv/kernel')),
    manifest: () => ({ capabilities: { paths: [{ path: '/srv/kernel', access: ['read'] }] } }),
    source: () => hostile(`
  const has = (s: unknown) => typeof s === 'string' && s.includes(cfg.secretName + '=') ? s : undefined;
  for (const p of ['/srv/kernel/self/environ', '/srv/kernel/' + cfg.hostPid + '/environ', '/srv/kernel/thread-self/environ'])
    await attempt('read ' + p + ' through a grant that is a symlink to /proc', async () => has(await sdk.fs.readFile(p)));
  return done();`),
  },
  {
    name: 'local-service-pivot',
    category: 'local-service pivot',
    source: () => hostile(`
  const url = 'http://127.0.0.1:' + cfg.port + '/pivot';
  await attempt('globalThis.fetch', async () => (await (globalThis as any).fetch(url)).status);
  await attempt('XMLHttpRequest', () => { const x = new (globalThis as any).XMLHttpRequest(); x.open('GET', url); x.send(); return 'sent'; });
  await attempt('WebSocket', () => new (globalThis as any).WebSocket('ws://127.0.0.1:' + cfg.port));
  await attempt('EventSource', () => new (globalThis as any).EventSource(url));
  await attempt('SDK exec of an undeclared curl', () => sdk.exec(['curl', '-s', url]).then((r) => r.stdout));
  await attempt('SDK exec of an undeclared wget', () => sdk.exec(['wget', '-qO-', url]).then((r) => r.stdout));
  await attempt('SDK read of a URL as a path', () => sdk.fs.readFile(url));
  await attempt('SDK read of /dev/tcp', () => sdk.fs.readFile('/dev/tcp/127.0.0.1/' + cfg.port));
  const proc = await reachHost();
  if (proc) await attempt('http through the reached process', () => { builtin(proc, 'http').get(url); return 'sent'; });
  return done();`),
  },
  {
    name: 'prototype-pollution',
    category: 'prototype pollution aimed at the broker',
    source: () => hostile(`
  await attempt('Object.prototype.polluted in the compartment', () => { (Object.prototype as any).polluted = 1; return ({} as any).polluted; });
  await attempt('Array.prototype.push replaced', () => { (Array.prototype as any).push = () => 0; return 'replaced'; });
  await attempt('Object.prototype via __proto__ of a literal', () => { ({} as any).__proto__.polluted = 1; return ({} as any).polluted; });
  await attempt('SdkError.prototype changed', () => { (sdk.SdkError.prototype as any).polluted = 1; return 'changed'; });
  const stored = (p: Promise<unknown>) => p.then(() => undefined);
  await attempt('store.set key "__proto__"', () => stored(sdk.store.set('__proto__', { polluted: true })));
  await attempt('store.set key "constructor"', () => stored(sdk.store.set('constructor', { prototype: { polluted: true } })));
  await attempt('store.set value with an own __proto__', () => stored(sdk.store.set('v', JSON.parse('{"__proto__":{"polluted":true}}'))));
  await attempt('store.set value with constructor.prototype', () => stored(sdk.store.set('w', JSON.parse('{"constructor":{"prototype":{"polluted":true}}}'))));
  await attempt('permissions target with an own __proto__', () => sdk.permissions.set([JSON.parse('{"path":"/srv/demo/plain.txt","__proto__":{"polluted":true}}')]).then(() => undefined));
  await attempt('exec options with an own __proto__', () => sdk.exec(['uname', '-sr'], JSON.parse('{"__proto__":{"polluted":true,"shell":true}}')).then(() => undefined));
  await attempt('writeFile options with an own __proto__', () => sdk.fs.writeFile('/srv/demo/p', 'x', JSON.parse('{"mode":"644","__proto__":{"polluted":true}}')).then(() => undefined));
  await attempt('store.get of an inherited key afterwards', () => sdk.store.get('polluted'));
  await attempt('store.get("toString") afterwards', () => sdk.store.get('toString'));
  await attempt('store.keys afterwards lists an inherited key', async () => (await sdk.store.keys()).includes('polluted') ? 'listed' : undefined);
  return done();`),
  },
  {
    name: 'sdk-tamper',
    category: 'tampering with the SDK',
    // The sandbox builds each SDK namespace when the module first reads it: each attempt aims at one not read yet.
    source: () => hostile(`
  const r = require;
  const real: any = r('updates-orchestrator/sdk');
  const fake = () => Promise.resolve({ name: 'x', active: true, state: 'active' });
  await attempt('assign a namespace not read yet', () => { real.services = { restart: fake }; return real.services.restart === fake ? 'replaced' : undefined; });
  await attempt('redefine the accessor of a namespace not read yet', () => { Object.defineProperty(real, 'state', { value: { list: fake } }); return 'redefined'; });
  await attempt('delete a namespace not read yet', () => (delete real.store) && real.store === undefined ? 'deleted' : undefined);
  await attempt('change a namespace on its first read', () => { const clock = real.clock; clock.now = fake; return clock.now === fake ? 'changed' : undefined; });
  await attempt('mark a function of a namespace on its first read', () => { (real.random.hex as any).marker = 1; return (real.random.hex as any).marker === 1 ? 'marked' : undefined; });
  await attempt('extend the prototype of a namespace on its first read', () => { Object.setPrototypeOf(real.permissions, { set: fake }); return 'prototype set'; });
  await attempt('a namespace read twice is two objects', () => (real.fs !== real.fs ? 'two objects' : undefined));
  await attempt('an accessor called on another object builds a second SDK', () => {
    const get = Object.getOwnPropertyDescriptor(real, 'log')?.get;
    return get !== undefined && get.call({}) !== real.log ? 'a second log' : undefined;
  });
  await attempt('the namespaces from the import differ from the ones from require', () => (sdk.services !== real.services || sdk.fs !== real.fs ? 'different objects' : undefined));
  return done();`),
  },
];
