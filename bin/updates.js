#!/usr/bin/env node
// The `updates` launcher: small and stable on purpose, since it must outlive every release it starts.
//
// 1. When the install root has a current release (releases/current, made by a self-update) that is not this
//    package, it runs that release's own launcher as a child and exits with its code.
// 2. When that release ends abnormally (killed, or an exit code a completed run never has) and it is the
//    release on trial (releases/state.json "pending"), it rolls releases/current back to the release before
//    it, holds the failed version, and starts again, so a broken release never stops the server's updates.
// 3. Otherwise it runs this package: the bundled CLI (dist/bundle/main.cjs, made by the build; one CommonJS
//    file, compiled with its V8 code cache by code-cache.js), else the compiled CLI (dist/cli/), or in an unbuilt
//    checkout the TypeScript sources through tsx (a dev dependency; an installed package always has dist/ and
//    never needs it).
// A release that does not even start (say its node_modules were removed) is not run: the launcher says so on one
// line and runs the release before it, or its own package (one on trial is rolled back, as in 2).
// While a release runs, SIGTERM and SIGINT go to it and the launcher waits for it to end (its run saves an
// `interrupted` report and exits 143 or 130); an interrupted release is no verdict on it.
// src/orchestrator/releases.ts defines the same layout; keep the two in step.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const ownPackage = realpathSync(fileURLToPath(new URL('..', import.meta.url)));
/** Exit codes of a run that completed, was refused or was interrupted normally (see --help). */
const NORMAL = new Set([0, 1, 2, 75, 100, 130, 143]);
/** How long a release may take to answer --version before it counts as not starting. */
const PROBE_TIMEOUT_MS = 60_000;
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 };

function flag(name) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) return argv[i + 1];
    if (argv[i]?.startsWith(`${name}=`)) return argv[i].slice(name.length + 1);
  }
  return undefined;
}

function installRoot() {
  // As the CLI maps it (src/cli/args.ts): a relative --modules-path is relative to --root when given.
  const root = flag('--root');
  const modules = flag('--modules-path') ?? '/var/local/lib/updates';
  if (root === undefined) return path.resolve(modules);
  return path.join(path.resolve(root), modules);
}

function readState(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

/** Same steps as rollbackRelease() in src/orchestrator/self-update.ts: state first, then the link. */
function rollBack(releases, state, reason) {
  const { pending, ...rest } = state;
  const at = new Date().toISOString();
  const next = { ...rest, held: { version: pending.version, reason, at }, rolledBack: { version: pending.version, to: pending.fromVersion, reason, at } };
  const link = path.join(releases, 'current');
  if (pending.from === null) rmSync(link, { force: true });
  else {
    const tmp = path.join(releases, `.current.rollback-${process.pid}`);
    rmSync(tmp, { force: true });
    symlinkSync(pending.from, tmp);
    renameSync(tmp, link);
  }
  const stateTmp = path.join(releases, `.state.json.tmp-${process.pid}`);
  writeFileSync(stateTmp, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(stateTmp, path.join(releases, 'state.json'));
  process.stderr.write(`updates: orchestrator ${pending.version} failed its first run (${reason}); rolled back to ${pending.fromVersion}\n`);
}

/** Why the release in `dir` does not start (one line), or undefined when it answers --version. */
function whyNotStarting(dir) {
  const res = spawnSync(process.execPath, [path.join(dir, 'bin', 'updates.js'), '--version'], {
    encoding: 'utf8',
    timeout: PROBE_TIMEOUT_MS,
    env: { ...process.env, UPDATES_NO_DELEGATE: '1' },
  });
  if (res.status === 0) return undefined;
  if (res.error) return res.error.message;
  const lines = `${res.stderr ?? ''}`.split('\n').map((l) => l.trim());
  const line = lines.find((l) => /^\w*Error\b|^Error \[/.test(l)) ?? lines.find((l) => l !== '') ?? `exit code ${res.status ?? res.signal}`;
  return line.slice(0, 300);
}

/** Runs a release's launcher as a child; SIGTERM and SIGINT go to it meanwhile, and it is waited for. */
async function runRelease(dir) {
  const child = spawn(process.execPath, [path.join(dir, 'bin', 'updates.js'), ...argv], {
    stdio: 'inherit',
    env: { ...process.env, UPDATES_NO_DELEGATE: '1' },
  });
  let forwarded;
  const forward = (signal) => {
    forwarded = signal;
    child.kill(signal);
  };
  process.on('SIGTERM', forward);
  process.on('SIGINT', forward);
  const [status, signal] = await new Promise((resolve) => {
    child.on('exit', (code, sig) => resolve([code, sig]));
    child.on('error', (err) => {
      process.stderr.write(`updates: could not start release ${path.basename(dir)}: ${err.message}\n`);
      resolve([null, null]);
    });
  });
  process.removeListener('SIGTERM', forward);
  process.removeListener('SIGINT', forward);
  return { status, signal, forwarded };
}

/** The release to fall back to when the current one does not start: the one before it, if it starts. */
function fallbackRelease(releases, state, broken) {
  const previous = state.pending?.from ?? state.previous;
  if (typeof previous !== 'string') return undefined;
  const dir = path.join(releases, previous);
  if (!existsSync(dir) || realpathSync(dir) === broken || whyNotStarting(dir) !== undefined) return undefined;
  return realpathSync(dir);
}

async function delegate() {
  if (process.env.UPDATES_NO_DELEGATE === '1' || argv.includes('self-test')) return undefined;
  const root = installRoot();
  if (root === undefined) return undefined;
  const releases = path.join(root, 'releases');
  for (let attempt = 0; attempt < 2; attempt++) {
    const current = path.join(releases, 'current');
    if (!existsSync(current) || realpathSync(current) === ownPackage) return undefined;
    const dir = realpathSync(current);
    const state = readState(path.join(releases, 'state.json'));
    const onTrial = state.pending !== undefined && path.basename(dir) === state.pending.dir;
    const broken = whyNotStarting(dir);
    if (broken !== undefined) {
      if (onTrial) {
        rollBack(releases, state, `it does not start: ${broken}`);
        continue;
      }
      const fallback = fallbackRelease(releases, state, dir);
      const instead = fallback === undefined || fallback === ownPackage ? "the launcher's own package" : `release ${path.basename(fallback)}`;
      process.stderr.write(`updates: the current orchestrator release ${path.basename(dir)} does not start (${broken}); running ${instead} instead\n`);
      if (fallback === undefined || fallback === ownPackage) return undefined;
      const res = await runRelease(fallback);
      return res.status ?? SIGNAL_EXIT[res.forwarded ?? ''] ?? 1;
    }
    const res = await runRelease(dir);
    // Stopped by a signal passed on from here: an interrupted run, not a broken release.
    if (res.forwarded !== undefined) return res.status ?? SIGNAL_EXIT[res.forwarded];
    if (res.status !== null && NORMAL.has(res.status)) return res.status;
    if (!onTrial) return res.status ?? 1;
    rollBack(releases, readState(path.join(releases, 'state.json')), res.signal ? `killed by ${res.signal}` : `exit code ${res.status}`);
  }
  return undefined;
}

const delegated = await delegate();
if (delegated !== undefined) process.exit(delegated);

const bundled = new URL('../dist/bundle/main.cjs', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);
let entry = existsSync(fileURLToPath(bundled)) ? bundled : compiled;
if (entry === compiled && !existsSync(fileURLToPath(compiled))) {
  // A checkout without a build: run the TypeScript sources through tsx (a dev dependency), or say what to do.
  const sources = new URL('../src/cli/main.ts', import.meta.url);
  const tsx = existsSync(fileURLToPath(sources)) ? await import('tsx/esm/api').catch(() => undefined) : undefined;
  if (tsx === undefined) {
    process.stderr.write(`updates: ${fileURLToPath(compiled)} is missing: this copy of updates-orchestrator was not built. In a checkout, run "npm ci && npm run build"; otherwise reinstall the package from a release tarball (npm pack builds it)\n`);
    process.exit(1);
  }
  tsx.register();
  entry = sources;
}
const { main } = entry === bundled ? (await import('./code-cache.js')).requireCached(fileURLToPath(bundled)) : await import(entry.href);
const code = await main(argv);
// An interrupted run has saved its report; what it abandoned (a fetch, a timer) must not keep the process alive.
if (code === SIGNAL_EXIT.SIGTERM || code === SIGNAL_EXIT.SIGINT) process.exit(code);
process.exitCode = code;
