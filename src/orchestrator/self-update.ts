/**
 * Self-update: when the repository's root index.json carries a newer orchestrator version, build that commit's
 * orchestrator as a new release beside the running one, prove it with its own self-test, flip `releases/current`
 * and hand the rest of the run to it. A release that fails to build or self-test is never made current.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UpdatesError, messageOf } from '../core/errors.js';
import { fsyncPath, fsyncTree } from '../core/fs-atomic.js';
import { gitAt } from './git.js';
import { walkTrees } from './git-tree.js';
import { releaseRunner } from './release-build.js';
import { writeFiles } from './install.js';
import type { StepHook } from './install.js';
import type { Logger } from '../core/logger.js';
import { versionMismatch } from './version.js';
import { readReleaseState, releasesDir, setCurrent, writeReleaseState, currentRelease } from './releases.js';
import { DEFAULTS } from '../core/defaults.js';
import { packageRoot } from '../core/package-root.js';
import { esbuildApi } from '../sandbox/build/esbuild-api.js';

/** The package folder of the running orchestrator (holds package.json, bin/, dist/ or src/, node_modules/). */
export const RUNNING_PACKAGE = packageRoot();

export interface StageReleaseOptions {
  installRoot: string;
  repoDir: string;
  commit: string;
  version: string;
  logger: Logger;
  hook?: StepHook;
}

const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeout: number = DEFAULTS.selfUpdateBuildTimeoutMs) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(cmd, args, { cwd, env, timeout, maxBuffer: 16 * 2 ** 20 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr }),
    );
  });

/**
 * Stages, builds and self-tests the orchestrator of `commit` in releases/<version>-<tree>. Returns the folder
 * name. Reuses a complete folder left by an interrupted run. Throws UpdatesError E_SELF_UPDATE when the release
 * is unusable; then nothing was made current.
 */
export async function stageRelease(o: StageReleaseOptions): Promise<string> {
  const tree = (await (await gitAt(o.repoDir)).raw(['rev-parse', `${o.commit}^{tree}`])).trim();
  const dirName = `${o.version}-${tree.slice(0, 12)}`;
  const parent = releasesDir(o.installRoot);
  const final = path.join(parent, dirName);
  if (await fsp.stat(path.join(final, '.release-ok')).then(() => true, () => false)) return dirName;
  await fsp.mkdir(parent, { recursive: true });
  const staging = path.join(parent, `.staging-${randomBytes(6).toString('hex')}`);
  const fail = (detail: string): never => {
    throw new UpdatesError('E_SELF_UPDATE', { version: o.version, detail });
  };
  try {
    const walk = (await walkTrees(o.repoDir, [{ key: 'release', oid: tree }], new Set(['modules']))).get('release');
    if (walk?.files === undefined) return fail(`its tree is refused: ${walk?.problem ?? 'unreadable'}`);
    const files = walk.files.filter((f) => f.mode !== '160000');
    if (!files.some((f) => f.rel === 'package.json') || !files.some((f) => f.rel === 'bin/updates.js')) {
      fail('the repository root holds no orchestrator (package.json and bin/updates.js are missing)');
    }
    await writeFiles(o.repoDir, files, staging);
    await o.hook?.('release-files-written', 'orchestrator');
    const mismatch = versionMismatch(staging);
    if (mismatch !== undefined) fail(`its two versions disagree: ${mismatch}`);
    await installDependencies(staging, o.logger);
    await transpile(staging).catch((err: unknown) => fail(`it does not build: ${messageOf(err).split('\n').slice(0, 6).join(' ')}`));
    // From here on the release's own code runs: as the sandbox user, with an empty environment (release-build.ts).
    const runner = await releaseRunner(staging, o.logger);
    // The release's own build step for the sandbox bundles, when it has one (without them it bundles at start).
    const prebuild = path.join(staging, 'scripts', 'prebuild-sandbox.mjs');
    if (await fsp.stat(prebuild).then(() => true, () => false)) {
      // It writes dist/sandbox/supervisor/prebuilt/ anew (removes it first): the folder holding it is lent.
      const built = await runner.node([prebuild], staging, DEFAULTS.selfUpdateBuildTimeoutMs, [path.join(staging, 'dist', 'sandbox', 'supervisor')]);
      if (built.code !== 0) fail(`its sandbox bundles do not build: ${built.stderr.trim().split('\n').filter((l) => l.trim() !== '').slice(-6).join(' ')}`);
    }
    // And for the CLI bundle (dist/bundle/, which its launcher prefers), when it has one: that folder is lent.
    const bundleCli = path.join(staging, 'scripts', 'bundle-cli.mjs');
    if (await fsp.stat(bundleCli).then(() => true, () => false)) {
      const built = await runner.node([bundleCli], staging, DEFAULTS.selfUpdateBuildTimeoutMs, [path.join(staging, 'dist', 'bundle')]);
      if (built.code !== 0) fail(`its CLI bundle does not build: ${built.stderr.trim().split('\n').filter((l) => l.trim() !== '').slice(-6).join(' ')}`);
    }
    const test = await runner.node([path.join(staging, 'bin', 'updates.js'), 'self-test'], staging, DEFAULTS.selfTestTimeoutMs);
    if (test.code !== 0 || !test.stdout.includes(`self-test ok ${o.version}`)) {
      fail(`its self-test failed (exit ${test.code}): ${(test.stderr || test.stdout).trim().split('\n').slice(-4).join(' ')}`);
    }
    await fsp.writeFile(path.join(staging, '.release-ok'), `${new Date().toISOString()}\n`);
    await fsyncTree(staging);
    await fsp.rm(final, { recursive: true, force: true });
    await fsp.rename(staging, final);
    await fsyncPath(parent);
    await o.hook?.('release-published', 'orchestrator');
    return dirName;
  } catch (err) {
    await fsp.rm(staging, { recursive: true, force: true });
    if (err instanceof UpdatesError) throw err;
    throw new UpdatesError('E_SELF_UPDATE', { version: o.version, detail: messageOf(err) }, { cause: err });
  }
}

/** The dependency list of a lockfile, without the root package's own entry (its version changes every release). */
async function lockKey(dir: string): Promise<string | undefined> {
  try {
    const lock = JSON.parse(await fsp.readFile(path.join(dir, 'package-lock.json'), 'utf8')) as { packages?: Record<string, unknown> };
    const packages = { ...lock.packages };
    delete packages[''];
    return JSON.stringify(packages);
  } catch {
    return undefined;
  }
}

/**
 * Gives the staged release its node_modules. Same lockfile as the running orchestrator: hard-link copy of the
 * running one's (no network). Different lockfile: `npm ci` from the npm registry, the only network use of a
 * self-update besides the git remote, and only when the dependencies really changed.
 */
async function installDependencies(staging: string, logger: Logger): Promise<void> {
  const [next, running] = await Promise.all([lockKey(staging), lockKey(RUNNING_PACKAGE)]);
  if (next !== undefined && next === running) {
    const src = path.join(RUNNING_PACKAGE, 'node_modules');
    const linked = await run('cp', ['-al', src, path.join(staging, 'node_modules')], staging);
    if (linked.code === 0) return;
    const copied = await run('cp', ['-a', src, path.join(staging, 'node_modules')], staging);
    if (copied.code === 0) return;
    throw new Error(`cannot copy node_modules: ${copied.stderr.trim()}`);
  }
  logger.warn('the new orchestrator has other dependencies; installing them from the npm registry');
  // In a folder of its own holding only the manifest and the lockfile: the repository's .npmrc (which could
  // name the program npm runs as git, for one) is never read. No package script runs (--ignore-scripts).
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'updates-npm-ci-'));
  try {
    for (const f of ['package.json', 'package-lock.json']) await fsp.copyFile(path.join(staging, f), path.join(work, f));
    const env = { PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin', HOME: work, npm_config_cache: path.join(work, '.npm-cache') };
    const ci = await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], work, env);
    if (ci.code !== 0) throw new Error(`npm ci failed: ${ci.stderr.trim().split('\n').slice(-3).join(' ')}`);
    const moved = await run('cp', ['-a', path.join(work, 'node_modules'), path.join(staging, 'node_modules')], work, env);
    if (moved.code !== 0) throw new Error(`cannot copy node_modules: ${moved.stderr.trim()}`);
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

/** Compiles src/ to dist/ with esbuild (type checking belongs to the release's CI, not to the server). */
async function transpile(staging: string): Promise<void> {
  const src = path.join(staging, 'src');
  const entries = (await fsp.readdir(src, { recursive: true }))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join(src, f));
  const { build } = esbuildApi();
  await build({ entryPoints: entries, outdir: path.join(staging, 'dist'), outbase: src, format: 'esm', platform: 'node', target: 'node20', logLevel: 'silent' });
}

/**
 * Makes the staged release current, on trial: `pending` is recorded first, so whatever happens after the flip,
 * the launcher knows which release to roll back from and to.
 */
export async function activateRelease(installRoot: string, dirName: string, version: string, fromVersion: string, hook?: StepHook): Promise<void> {
  const state = await readReleaseState(installRoot);
  const from = (await currentRelease(installRoot)) ?? null;
  await writeReleaseState(installRoot, { ...state, pending: { dir: dirName, version, from, fromVersion, at: new Date().toISOString() } });
  await hook?.('release-pending', 'orchestrator');
  await setCurrent(installRoot, dirName);
  await hook?.('release-flipped', 'orchestrator');
}

/** Called at the end of a completed run of the pending release: it is no longer on trial. */
export async function confirmRelease(installRoot: string, runningDir: string | undefined): Promise<boolean> {
  const state = await readReleaseState(installRoot);
  if (state.pending === undefined || runningDir !== state.pending.dir) return false;
  const { pending, ...rest } = state;
  await writeReleaseState(installRoot, { ...rest, previous: pending.from });
  return true;
}

/** Rolls the pending release back to the one before it and holds its version. */
export async function rollbackRelease(installRoot: string, reason: string): Promise<{ version: string; to: string } | undefined> {
  const state = await readReleaseState(installRoot);
  if (state.pending === undefined) return undefined;
  const { pending, ...rest } = state;
  await setCurrent(installRoot, pending.from);
  const at = new Date().toISOString();
  await writeReleaseState(installRoot, {
    ...rest,
    held: { version: pending.version, reason, at },
    rolledBack: { version: pending.version, to: pending.fromVersion, reason, at },
  });
  return { version: pending.version, to: pending.fromVersion };
}
