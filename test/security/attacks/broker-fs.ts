// Attacks on the broker's file layer: grant roots reached through symlinks, races by a real unprivileged local user,
// hard links, special files, grant spellings, the orchestrator's own files, request-size bombs, backup sizes and
// requests that would act after the run ended.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULTS } from '../../../src/core/defaults.js';
import { startRacer } from '../../helpers/racer.js';
import type { Attack, Observed } from '../attack.js';
import { hostile } from '../attack.js';
import { filesContaining } from '../evidence.js';
import { NOBODY } from '../world.js';
import type { World } from '../world.js';

const MB = 1024 * 1024;
const ALL = ['read', 'write', 'chmod', 'chown', 'backup'];
/** Files of the root-only folder the racers aim at. */
const PRECIOUS_FILES = 8;

/** <root>/etc/precious: root's, mode 0700, files 0600 whose text carries the attack's token. */
const precious = (w: World): string => w.host('/etc/precious');
const preciousText = (w: World): string => `precious ${w.token}\n`;

function makePrecious(w: World): void {
  mkdirSync(precious(w), { recursive: true, mode: 0o700 });
  chmodSync(precious(w), 0o700);
  for (let i = 0; i < PRECIOUS_FILES; i++) writeFileSync(path.join(precious(w), `p${i}`), preciousText(w), { mode: 0o600 });
}

/** What changed in the precious folder, and every copy of its text anywhere else under the root (backups included). */
function preciousProblems(w: World): string[] {
  const problems: string[] = [];
  const want = Array.from({ length: PRECIOUS_FILES }, (_, i) => `p${i}`).sort();
  let names: string[] = [];
  try {
    names = readdirSync(precious(w)).sort();
  } catch (err) {
    return [`the root-only folder is gone: ${(err as Error).message}`];
  }
  if (names.join() !== want.join()) problems.push(`the root-only folder now holds [${names.join(', ')}]`);
  const top = lstatSync(precious(w));
  if (!top.isDirectory() || top.uid !== 0 || (top.mode & 0o7777) !== 0o700) problems.push(`the root-only folder changed: uid ${top.uid} mode ${(top.mode & 0o7777).toString(8)}`);
  for (const n of names) {
    const st = lstatSync(path.join(precious(w), n));
    if (!st.isFile() || st.uid !== 0 || st.gid !== 0 || (st.mode & 0o7777) !== 0o600) problems.push(`${n} changed: uid ${st.uid} gid ${st.gid} mode ${(st.mode & 0o7777).toString(8)}`);
    else if (readFileSync(path.join(precious(w), n), 'utf8') !== preciousText(w)) problems.push(`${n} changed content`);
  }
  const copies = filesContaining(w.root, `precious ${w.token}`, [precious(w)]);
  problems.push(...copies.map((f) => `a root-only file was copied to ${f}`));
  return problems;
}

/**
 * The stage of a race: /srv/demo/victim belongs to the local user (nobody), who owns everything below it; the
 * broker acts on /srv/demo/victim/tree/sub while the racer swaps `sub` for a symlink to the root-only folder.
 */
function raceSetup(w: World): void {
  // the local user must be able to reach their own folder inside the grant
  chmodSync(w.root, 0o755);
  makePrecious(w);
  const sub = w.host('/srv/demo/victim/tree/sub');
  mkdirSync(sub, { recursive: true });
  for (let i = 0; i < 4; i++) writeFileSync(path.join(sub, `f${i}`), 'inside\n');
  for (const p of [w.host('/srv/demo/victim'), w.host('/srv/demo/victim/tree'), sub, ...[0, 1, 2, 3].map((i) => path.join(sub, `f${i}`))]) chownSync(p, NOBODY, NOBODY);
}

/** Starts the racer: a separate process as nobody, remaking the folder the broker removes. */
function raceDuring(w: World): () => void {
  const racer = startRacer(w.host('/srv/demo/victim/tree'), 'sub', precious(w), { refill: 4 });
  return () => racer.kill();
}

/** A loop body that runs `rounds` times and for at least `seconds` of the orchestrator's clock. */
const forSeconds = (seconds: number, rounds: number, body: string): string => `
  const start = (await sdk.clock.now()).epochMs;
  let round = 0, acted = 0, refused = 0;
  for (; round < ${rounds} || (await sdk.clock.now()).epochMs - start < ${seconds * 1000}; round++) {
    ${body}
  }
  lines.push(round + ' rounds (' + acted + ' acted, ' + refused + ' refused)');`;

/** A race attack: the stage, the racer, and the module's loop against it. */
function race(name: string, category: string, body: string, rounds = 150): Attack {
  return {
    name,
    category,
    setup: raceSetup,
    during: raceDuring,
    manifest: () => ({ timeout_seconds: 60 }),
    source: () => hostile(`
  const T = '/srv/demo/victim/tree';
  const fromPrecious = (s: unknown) => typeof s === 'string' && s.startsWith('precious ') ? s : undefined;
${forSeconds(4, rounds, body)}
  // keep only what reached something: hundreds of rounds of "blocked" say nothing
  const kept = lines.filter((l) => l.includes('REACHED') || l.includes(' rounds ('));
  lines.length = 0;
  lines.push(...kept);
  return done();`),
    check: (w) => preciousProblems(w),
  };
}

/** Probes that must all fail on a path: read, write, chmod, chown, backup, remove, mkdir. */
const probeAll = (p: string): string => `
  await attempt('read ${p}', async () => { const s = await sdk.fs.readFile('${p}/secret'); return /outside secret/.test(s) ? s : undefined; });
  await attempt('write ${p}', () => sdk.fs.writeFile('${p}/loot', LOOT).then(() => 'written'));
  await attempt('chown -R ${p}', () => sdk.permissions.set([{ path: '${p}', owner: ${NOBODY}, group: ${NOBODY}, recursive: true }]).then((r) => r.changed || undefined));
  await attempt('chmod ${p}/secret', () => sdk.permissions.set([{ path: '${p}/secret', mode: 0o666 }]).then((r) => r.changed || undefined));
  await attempt('backup ${p}', () => sdk.state.backup('probe', ['${p}']).then((b) => b.files || undefined));
  await attempt('mkdir ${p}/made', () => sdk.fs.mkdir('${p}/made'));
  await attempt('remove ${p}/secret', () => sdk.fs.remove('${p}/secret'));
  await attempt('exists ${p}/secret', () => sdk.fs.exists('${p}/secret'));`;

const grantOf = (p: string) => ({ paths: [{ path: p, access: ALL, owners: [NOBODY], groups: [NOBODY] }] });

/** The apparent bytes of every file under `dir` (0 when it does not exist). */
function bytesUnder(dir: string): number {
  let n = 0;
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const e of names) {
      const st = lstatSync(path.join(d, e));
      if (st.isDirectory()) walk(path.join(d, e));
      else n += st.size;
    }
  };
  walk(dir);
  return n;
}

/** Log evidence that an attacker's request acted after its run ended (or outlived the drain). */
function actedLate(_w: World, o: Observed): string[] {
  const ended = o.logs.findIndex((l) => l['module'] === 'attacker' && typeof l['msg'] === 'string' && /^[✗✓]/.test(l['msg']));
  if (ended < 0) return ['the attacker outcome line is missing from the log'];
  const late = o.logs.slice(ended).filter((l) => l['module'] === 'attacker' && l['audit'] === true);
  const stillRunning = o.logs.filter((l) => typeof l['msg'] === 'string' && l['msg'].includes('still running after the run ended'));
  return [
    ...late.map((l) => `a request finished after the run ended: ${String(l['method'])} ${String(l['decision'])}`),
    ...stillRunning.map(() => 'requests outlived the drain'),
  ];
}

export const BROKER_FS: Attack[] = [
  // ---- grant root reached through a symlink ----
  {
    name: 'grant-root-symlink',
    category: 'grant root reached through a symlink',
    // the local user who owned /srv/site replaced it with a symlink to a root-only folder
    setup: (w) => symlinkSync(w.host('/etc/outside'), w.host('/srv/site')),
    manifest: () => ({ capabilities: grantOf('/srv/site') }),
    source: () => hostile(`${probeAll('/srv/site')}
  return done();`),
  },
  {
    name: 'grant-ancestor-symlink',
    category: 'grant root reached through a symlink',
    // a folder above the grant root is the symlink: /srv/home -> <root>/etc, grant /srv/home/outside
    setup: (w) => symlinkSync(w.host('/etc'), w.host('/srv/home')),
    manifest: () => ({ capabilities: grantOf('/srv/home/outside') }),
    source: () => hostile(`${probeAll('/srv/home/outside')}
  return done();`),
  },
  {
    name: 'grant-below-user-folder',
    category: 'grant root reached through a symlink',
    // /srv/users/alice belongs to a local user; the grant root below it is swapped for a symlink while the module runs
    setup: (w) => {
      chmodSync(w.root, 0o755);
      mkdirSync(w.host('/srv/users/alice/site'), { recursive: true });
      writeFileSync(w.host('/srv/users/alice/site/secret'), 'inside\n');
      chownSync(w.host('/srv/users/alice'), NOBODY, NOBODY);
      chownSync(w.host('/srv/users/alice/site'), NOBODY, NOBODY);
    },
    during: (w) => {
      const racer = startRacer(w.host('/srv/users/alice'), 'site', w.host('/etc/outside'));
      return () => racer.kill();
    },
    manifest: () => ({ capabilities: grantOf('/srv/users/alice/site'), timeout_seconds: 60 }),
    source: () => hostile(`
  for (let i = 0; i < 100; i++) {
    await attempt('read', async () => { const s = await sdk.fs.readFile('/srv/users/alice/site/secret'); return /outside secret/.test(s) ? s : undefined; });
    try { await sdk.permissions.set([{ path: '/srv/users/alice/site', mode: 0o777, owner: ${NOBODY}, recursive: true }]); } catch { /* refused */ }
    try { await sdk.fs.writeFile('/srv/users/alice/site/loot', LOOT); } catch { /* refused */ }
  }
  const kept = lines.filter((l) => l.includes('REACHED'));
  lines.length = 0;
  lines.push(...kept);
  return done();`),
    check: (w, o) => {
      const refusals = o.logs.filter((l) => l['module'] === 'attacker' && l['audit'] === true && l['code'] === 'E_PATH_ESCAPE').length;
      return refusals === 0 ? ['the grant below a folder owned by a local user was never refused'] : [];
    },
  },

  // ---- races by a real unprivileged local user (a separate process as nobody, in a loop, for seconds) ----
  race('race-remove', 'remove race by a local user', `
    try { await sdk.fs.remove(T); acted++; } catch { refused++; }
    await sdk.clock.sleep(1);`),
  race('race-mkdir', 'mkdir race by a local user', `
    try { await sdk.fs.mkdir(T + '/sub/made-' + round + '/deeper'); acted++; } catch { refused++; }
    try { await sdk.fs.mkdir(T + '/sub/one-' + round, { mode: 0o777 }); } catch { /* refused this round */ }`),
  race('race-restore', 'restore race by a local user', `
    if (round === 0) {
      // a backup that holds sub/ as a folder with files, taken while the racer runs
      for (let i = 0; i < 50; i++) {
        try { if ((await sdk.state.backup('race', [T])).files > 0) break; } catch { /* taken during a swap */ }
      }
    }
    try { await sdk.state.restore('race'); acted++; } catch { refused++; }`, 40),
  race('race-chown-chmod', 'chown and chmod race by a local user', `
    try { await sdk.permissions.set([{ path: T, owner: ${NOBODY}, group: ${NOBODY}, mode: round % 2 === 0 ? 0o777 : 0o755, recursive: true }]); acted++; } catch { refused++; }
    try { await sdk.permissions.set([{ path: T + '/sub/f1', mode: 0o666, owner: ${NOBODY} }]); } catch { /* refused */ }`),
  race('race-write-read', 'write and read race by a local user', `
    try { await sdk.fs.writeFile(T + '/sub/f' + (round % 4), LOOT); acted++; } catch { refused++; }
    await attempt('read through the swap', async () => fromPrecious(await sdk.fs.readFile(T + '/sub/p' + (round % ${PRECIOUS_FILES}))));
    // p0 exists only in the root-only folder: seeing it means the walk went through the symlink
    await attempt('exists through the swap', async () => (await sdk.fs.exists(T + '/sub/p0')) ? 'p0 seen' : undefined);`),
  race('race-backup', 'backup race by a local user', `
    try { await sdk.state.backup('grab-' + (round % 3), [T]); acted++; } catch { refused++; }
    if (round % 10 === 9) {
      // whatever the backups caught is written back inside the grant, where the module could read it
      try { await sdk.state.restore('grab-' + (round % 3)); } catch { /* refused */ }
      for (let i = 0; i < ${PRECIOUS_FILES}; i++) await attempt('read a restored copy', async () => fromPrecious(await sdk.fs.readFile(T + '/sub/p' + i)));
    }`, 40),

  // ---- hard links ----
  {
    name: 'hardlink-to-outside',
    category: 'hard links out of the grant',
    setup: (w) => {
      linkSync(w.host('/etc/outside/secret'), w.host('/srv/demo/hl'));
      linkSync(w.sentinel, w.host('/srv/demo/hl-sentinel'));
    },
    source: () => hostile(`
  for (const p of ['/srv/demo/hl', '/srv/demo/hl-sentinel']) {
    await attempt('read ' + p, async () => { const s = await sdk.fs.readFile(p); return /outside secret|sentinel/.test(s) ? s : undefined; });
    await attempt('chmod 0666 ' + p, () => sdk.permissions.set([{ path: p, mode: 0o666 }]).then((r) => r.changed || undefined));
    await attempt('chown ' + p, () => sdk.permissions.set([{ path: p, owner: ${NOBODY}, group: ${NOBODY} }]).then((r) => r.changed || undefined));
    await attempt('backup ' + p, () => sdk.state.backup('hl', [p]).then((b) => b.files || undefined));
  }
  // a tree holding the links: chmod -R, chown -R and a backup must leave them out
  await attempt('chmod -R of the grant', async () => { await sdk.permissions.set([{ path: '/srv/demo', mode: 0o777, owner: ${NOBODY}, recursive: true }]); return undefined; });
  await attempt('backup of the grant', async () => { await sdk.state.backup('tree', ['/srv/demo']); return undefined; });
  await attempt('restore of the grant', async () => { await sdk.state.restore('tree'); return undefined; });
  // a write replaces the name, never the file behind it
  try { await sdk.fs.writeFile('/srv/demo/hl', LOOT); } catch { /* refused */ }
  return done();`),
    check: (w) => {
      const copies = filesContaining(`${w.installRoot}/state`, `outside secret ${w.token}`);
      return copies.map((f) => `the outside file was copied into ${f}`);
    },
  },
  {
    name: 'hardlink-in-restored-backup',
    category: 'hard links out of the grant',
    // the backup is taken while the file is the module's own; a hard link to an outside file then takes its name
    setup: (w) => writeFileSync(w.host('/srv/demo/victim.conf'), 'mine\n'),
    during: (w) => {
      let stop = false;
      const swap = (): void => {
        if (stop) return;
        try {
          const st = lstatSync(w.host('/srv/demo/victim.conf'));
          if (st.nlink === 1 && readFileSync(w.host('/srv/demo/ready'), 'utf8') === 'backed up') {
            execFileSync('ln', ['-f', w.host('/etc/outside/secret'), w.host('/srv/demo/victim.conf')]);
            stop = true;
            return;
          }
        } catch {
          // not ready yet
        }
        setTimeout(swap, 5);
      };
      swap();
      return () => {
        stop = true;
      };
    },
    manifest: () => ({ timeout_seconds: 60 }),
    source: () => hostile(`
  await sdk.state.backup('conf', ['/srv/demo/victim.conf']);
  await sdk.fs.writeFile('/srv/demo/ready', 'backed up');
  for (let i = 0; i < 400; i++) {
    const s = await sdk.fs.readFile('/srv/demo/victim.conf').catch(() => 'refused');
    if (s !== 'mine\\n') break;
    await sdk.clock.sleep(5);
  }
  await attempt('read the hard link', async () => { const s = await sdk.fs.readFile('/srv/demo/victim.conf'); return /outside secret/.test(s) ? s : undefined; });
  await attempt('chmod the hard link', () => sdk.permissions.set([{ path: '/srv/demo/victim.conf', mode: 0o666 }]).then((r) => r.changed || undefined));
  await attempt('chown the hard link', () => sdk.permissions.set([{ path: '/srv/demo/victim.conf', owner: ${NOBODY} }]).then((r) => r.changed || undefined));
  // the restore must replace the name, never write into the file behind it (the watched secret shows which)
  await attempt('restore over the hard link', async () => { await sdk.state.restore('conf'); return undefined; });
  return done();`),
  },

  // ---- special files ----
  {
    name: 'special-files',
    category: 'special files (FIFOs, devices, sockets)',
    setup: (w) => {
      execFileSync('mkfifo', [w.host('/srv/demo/fifo')]);
      execFileSync('mknod', [w.host('/srv/demo/zero'), 'c', '1', '5']);
      execFileSync('mknod', [w.host('/srv/demo/null'), 'c', '1', '3']);
      mkdirSync(w.host('/srv/demo/dev'));
      execFileSync('mkfifo', [w.host('/srv/demo/dev/fifo2')]);
    },
    manifest: () => ({ timeout_seconds: 30 }),
    source: () => hostile(`
  for (const p of ['/srv/demo/fifo', '/srv/demo/zero', '/srv/demo/null', '/srv/demo/dev/fifo2']) {
    await attempt('read ' + p, () => sdk.fs.readFile(p).then((s) => 'read ' + s.length));
    await attempt('write ' + p, () => sdk.fs.writeFile(p, LOOT).then(() => 'written'));
    await attempt('chmod ' + p, () => sdk.permissions.set([{ path: p, mode: 0o666 }]).then((r) => r.changed || undefined));
    await attempt('chown ' + p, () => sdk.permissions.set([{ path: p, owner: ${NOBODY} }]).then((r) => r.changed || undefined));
    await attempt('backup ' + p, () => sdk.state.backup('special', [p]).then((b) => b.files || undefined));
  }
  await attempt('chmod -R over the special files', async () => { await sdk.permissions.set([{ path: '/srv/demo/dev', mode: 0o777, recursive: true }]); return undefined; });
  await attempt('backup over the special files', () => sdk.state.backup('tree', ['/srv/demo/dev']).then((b) => b.files || undefined));
  return done();`),
    check: (w) => {
      const problems: string[] = [];
      for (const [p, kind] of [['/srv/demo/fifo', 'fifo'], ['/srv/demo/zero', 'char'], ['/srv/demo/null', 'char'], ['/srv/demo/dev/fifo2', 'fifo']] as const) {
        const st = lstatSync(w.host(p));
        const ok = kind === 'fifo' ? st.isFIFO() : st.isCharacterDevice();
        if (!ok) problems.push(`${p} is no longer a ${kind}`);
        if ((st.mode & 0o777) !== 0o644 || st.uid !== 0) problems.push(`${p} changed: uid ${st.uid} mode ${(st.mode & 0o777).toString(8)}`);
      }
      return problems;
    },
  },

  // ---- grant spellings ----
  ...[
    ['grant-spelling-dot', '/.'],
    ['grant-spelling-dot-slash', '/./'],
    ['grant-spelling-slashes', '//'],
    ['grant-spelling-proc', '//proc/./'],
  ].map(([name, spelling]): Attack => ({
    name: name ?? '',
    category: 'grant spellings of "/" and kernel folders',
    expect: 'build',
    manifest: () => ({ capabilities: { paths: [{ path: spelling, access: ['read', 'write', 'chmod'] }] } }),
    source: () => hostile(`
  await attempt('read /etc/outside/secret', async () => { const s = await sdk.fs.readFile('/etc/outside/secret'); return /outside secret/.test(s) ? s : undefined; });
  await attempt('write /etc/outside/loot', () => sdk.fs.writeFile('/etc/outside/loot', LOOT).then(() => 'written'));
  return done();`),
  })),

  // ---- the orchestrator's own files ----
  {
    name: 'own-files-grant',
    category: "grants on the orchestrator's own files",
    manifest: () => ({
      capabilities: {
        paths: [
          { path: '/var/local/lib/updates', access: ALL, owners: [NOBODY] },
          { path: '/var/local', access: ALL, owners: [NOBODY] },
        ],
      },
    }),
    source: () => hostile(`
  const R = '/var/local/lib/updates';
  await attempt('write config.json', () => sdk.fs.writeFile(R + '/config.json', JSON.stringify({ branch: LOOT, allow_history_rewrite: true })).then(() => 'written'));
  await attempt('write index.json', () => sdk.fs.writeFile(R + '/index.json', LOOT).then(() => 'written'));
  await attempt("write the canary's store", () => sdk.fs.writeFile(R + '/state/store/canary.json', JSON.stringify({ mark: LOOT, x: 1 })).then(() => 'written'));
  await attempt('write the local repository hooks', () => sdk.fs.writeFile(R + '/state/repo.git/hooks/post-merge', '#!/bin/sh\\n' + LOOT).then(() => 'written'));
  await attempt('read the run lock key', async () => { const s = await sdk.fs.readFile(R + '/state/store/canary.json'); return s || undefined; });
  await attempt('chmod -R of the install root', () => sdk.permissions.set([{ path: R, mode: 0o777, recursive: true }]).then((r) => r.changed || undefined));
  await attempt('chmod -R of a folder above it', () => sdk.permissions.set([{ path: '/var/local', mode: 0o777, recursive: true }]).then((r) => r.changed || undefined));
  await attempt('chown -R of a folder above it', () => sdk.permissions.set([{ path: '/var/local', owner: ${NOBODY}, recursive: true }]).then((r) => r.changed || undefined));
  await attempt('remove the installed modules', () => sdk.fs.remove(R + '/modules'));
  await attempt('remove a folder above it', () => sdk.fs.remove('/var/local/lib'));
  await attempt('backup of the state', () => sdk.state.backup('own', [R + '/state']).then((b) => b.files || undefined));
  await attempt('backup of a folder above it', () => sdk.state.backup('above', ['/var/local']).then((b) => b.files || undefined));
  await attempt('mkdir in the install root', () => sdk.fs.mkdir(R + '/releases/evil'));
  return done();`),
    check: (w) => {
      const problems = filesContaining(w.installRoot, w.loot).map((f) => `loot written into the install root: ${f}`);
      const st = lstatSync(w.installRoot);
      if ((st.mode & 0o777) !== 0o755 || st.uid !== 0) problems.push(`the install root changed: uid ${st.uid} mode ${(st.mode & 0o777).toString(8)}`);
      return problems;
    },
  },
  {
    name: 'own-files-by-link',
    category: "grants on the orchestrator's own files",
    // another name for the install root inside the module's own grant: a symlink and a hard link
    setup: (w) => symlinkSync(w.installRoot, w.host('/srv/demo/updates')),
    source: () => hostile(`
  await attempt('write config.json via a symlink', () => sdk.fs.writeFile('/srv/demo/updates/config.json', LOOT).then(() => 'written'));
  await attempt("read the canary's store via a symlink", async () => { const s = await sdk.fs.readFile('/srv/demo/updates/state/store/canary.json'); return s || undefined; });
  await attempt('chmod -R via a symlink', () => sdk.permissions.set([{ path: '/srv/demo/updates', mode: 0o777, recursive: true }]).then((r) => r.changed || undefined));
  return done();`),
    check: (w) => filesContaining(w.installRoot, w.loot).map((f) => `loot written into the install root: ${f}`),
  },

  // ---- request-size bombs ----
  {
    name: 'request-binary-bomb',
    category: 'request-size bombs',
    manifest: () => ({ max_memory_mb: 256, timeout_seconds: 60 }),
    source: () => hostile(`
  const send = (what: string, value: unknown) => attempt(what, () => sdk.store.set('bomb', value as any).then(() => 'stored'));
  await send('a 100 MB Uint8Array', new Uint8Array(${100 * MB}));
  await send('a 24 MB Uint8Array in an object', { a: [new Uint8Array(${24 * MB})] });
  await send('a Float64Array of 4M', new Float64Array(${4 * MB}));
  await send('a 64 MB ArrayBuffer', new ArrayBuffer(${64 * MB}));
  await send('a DataView', new DataView(new ArrayBuffer(${16 * MB})));
  await attempt('fs.writeFile of a 100 MB Uint8Array', () => sdk.fs.writeFile('/srv/demo/bin', new Uint8Array(${100 * MB}) as any).then(() => 'written'));
  return done();`),
  },
  {
    name: 'request-collection-bomb',
    category: 'request-size bombs',
    manifest: () => ({ max_memory_mb: 512, timeout_seconds: 100 }),
    source: () => hostile(`
  const send = (what: string, value: unknown) => attempt(what, () => sdk.store.set('bomb', value as any).then(() => 'stored'));
  await send('a Date', new Date(0));
  await send('a RegExp', /x/);
  const big = new Map(); for (let i = 0; i < 200000; i++) big.set(i, i);
  await send('a Map of 200k entries', big);
  await send('a Set of 200k', new Set(Array.from({ length: 200000 }, (_, i) => i)));
  await send('an array of 2M numbers', new Array(2000000).fill(1));
  const wide: Record<string, number> = {}; for (let i = 0; i < 200000; i++) wide['k' + i] = i;
  await send('an object of 200k keys', wide);
  await send('a 40 MB string', 'x'.repeat(${40 * MB}));
  await attempt('a 40 MB path', () => sdk.fs.readFile('/srv/demo/' + 'a'.repeat(${40 * MB})).then(() => 'read'));
  const sparse: unknown[] = []; sparse[4294967294] = 1;
  await send('a sparse array of length 2^32-1', sparse);
  return done();`),
    check: () => {
      // the orchestrator's peak memory over this whole attack (the process runs one attack only)
      const peakMb = Math.round(process.resourceUsage().maxRSS / 1024);
      return peakMb > 1500 ? [`the orchestrator's memory peaked at ${peakMb} MB`] : [];
    },
  },

  // ---- backup size ----
  {
    name: 'backup-sparse-file',
    category: 'backup size',
    // a local user's 256 MB sparse file (a few blocks on disk) backed up under several labels
    setup: (w) => {
      writeFileSync(w.host('/srv/demo/sparse'), '');
      truncateSync(w.host('/srv/demo/sparse'), 256 * MB);
      chownSync(w.host('/srv/demo/sparse'), NOBODY, NOBODY);
    },
    source: () => hostile(`
  for (const label of ['a', 'b', 'c', 'a', 'a']) await attempt('backup of the sparse file as ' + label, () => sdk.state.backup(label, ['/srv/demo/sparse']).then((b) => b.bytes || undefined));
  await attempt('backup of the whole grant', () => sdk.state.backup('all', ['/srv/demo']).then((b) => b.bytes > ${128 * MB} ? b.bytes : undefined));
  return done();`),
    check: (w) => {
      const bytes = bytesUnder(`${w.installRoot}/state/backups/attacker`);
      return bytes > DEFAULTS.backupMaxBytes ? [`the attacker's backups hold ${bytes} bytes`] : [];
    },
  },
  // ---- requests that would act after the run ended ----
  {
    name: 'late-recursive-chmod',
    category: 'late-acting requests',
    setup: (w) => {
      for (let d = 0; d < 20; d++) {
        mkdirSync(w.host(`/srv/demo/big/d${d}`), { recursive: true });
        for (let f = 0; f < 100; f++) writeFileSync(w.host(`/srv/demo/big/d${d}/f${f}`), 'x');
      }
    },
    source: () => hostile(`
  // 16 recursive chmods and chowns fired as main() returns, never awaited
  for (let i = 0; i < 16; i++) void sdk.permissions.set([{ path: '/srv/demo/big', mode: i % 2 === 0 ? 0o777 : 0o700, owner: ${NOBODY}, recursive: true }]).catch(() => undefined);
  return { success: false, message: 'late chmods kicked off' };`),
    check: actedLate,
  },
  {
    name: 'late-backup-remove',
    category: 'late-acting requests',
    setup: (w) => {
      for (let d = 0; d < 20; d++) {
        mkdirSync(w.host(`/srv/demo/big/d${d}`), { recursive: true });
        for (let f = 0; f < 100; f++) writeFileSync(w.host(`/srv/demo/big/d${d}/f${f}`), 'x'.repeat(1000));
      }
    },
    source: () => hostile(`
  for (let i = 0; i < 6; i++) void sdk.state.backup('late' + i, ['/srv/demo/big']).catch(() => undefined);
  void sdk.fs.remove('/srv/demo/big').catch(() => undefined);
  for (let i = 0; i < 8; i++) void sdk.fs.mkdir('/srv/demo/late/' + 'x/'.repeat(50) + i).catch(() => undefined);
  return { success: false, message: 'late backups and removal kicked off' };`),
    check: actedLate,
  },
];
