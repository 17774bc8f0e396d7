#!/usr/bin/env node
// The `updates` launcher: small and stable on purpose, since it must outlive every release it starts.
//
// 1. When the install root has a current release (releases/current, made by a self-update) that is not this
//    package, it runs that release's own launcher as a child and exits with its code.
// 2. When that release ends abnormally (killed, or an exit code a completed run never has) and it is the
//    release on trial (releases/state.json "pending"), it rolls releases/current back to the release before
//    it, holds the failed version, and starts again, so a broken release never stops the server's updates.
// 3. Otherwise it runs this package: the compiled CLI (dist/), or in an unbuilt checkout the TypeScript sources
//    through tsx (a dev dependency; an installed package always has dist/ and never needs it).
// src/orchestrator/releases.ts defines the same layout; keep the two in step.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const ownPackage = realpathSync(fileURLToPath(new URL('..', import.meta.url)));
/** Exit codes of a run that completed or was refused normally (see --help). */
const NORMAL = new Set([0, 1, 2, 75, 100]);

function flag(name) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) return argv[i + 1];
    if (argv[i]?.startsWith(`${name}=`)) return argv[i].slice(name.length + 1);
  }
  return undefined;
}

function installRoot() {
  const root = path.resolve(flag('--root') ?? '/');
  const modules = flag('--modules-path') ?? '/var/local/lib/updates';
  // A relative --modules-path is refused by the CLI (it would not be mapped under --root): nothing to delegate.
  return path.isAbsolute(modules) ? path.join(root, modules) : undefined;
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

function delegate() {
  if (process.env.UPDATES_NO_DELEGATE === '1' || argv.includes('self-test')) return undefined;
  const root = installRoot();
  if (root === undefined) return undefined;
  const releases = path.join(root, 'releases');
  for (let attempt = 0; attempt < 2; attempt++) {
    const current = path.join(releases, 'current');
    if (!existsSync(current) || realpathSync(current) === ownPackage) return undefined;
    const res = spawnSync(process.execPath, [path.join(current, 'bin', 'updates.js'), ...argv], {
      stdio: 'inherit',
      env: { ...process.env, UPDATES_NO_DELEGATE: '1' },
    });
    if (res.status !== null && NORMAL.has(res.status)) return res.status;
    const state = readState(path.join(releases, 'state.json'));
    if (!state.pending || path.basename(realpathSync(current)) !== state.pending.dir) return res.status ?? 1;
    rollBack(releases, state, res.signal ? `killed by ${res.signal}` : `exit code ${res.status}`);
  }
  return undefined;
}

const delegated = delegate();
if (delegated !== undefined) process.exit(delegated);

const compiled = new URL('../dist/cli/main.js', import.meta.url);
let entry = compiled;
if (!existsSync(fileURLToPath(compiled))) {
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
const { main } = await import(entry.href);
process.exitCode = await main(argv);
