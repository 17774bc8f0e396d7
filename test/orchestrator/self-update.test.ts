// Self-update end to end: a repository made of this project's own tree, bumped and changed, is installed as a
// new release, self-tested, made current and re-executed to finish the run; broken releases never stick.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { liveVersions } from '../helpers/install-root.js';
import { currentProjectFiles, patch, projectRepo, withVersion } from '../helpers/project-repo.js';
import { traversableDir } from '../helpers/repo.js';
import { runCli, runNode } from '../helpers/run.js';

const MARK = 'starting update orchestration';
const args = (root: string, url: string) => ['--modules-path', root, '--repo-url', url, '--services', 'record', '--json'];

interface Report {
  exitCode: number;
  orchestrator: { from: string; to: string; status: string; message?: string };
  modules: { module: string; status: string }[];
  updates: { module: string; status: string }[];
}
const parse = (stdout: string) => JSON.parse(stdout) as Report;

test('a newer orchestrator is built, self-tested, made current and finishes the same run', async () => {
  const repo = projectRepo();
  const root = traversableDir();
  const first = await runCli(args(root, repo.url));
  assert.equal(first.code, 0, first.stderr);

  // Fields of the global index that the orchestrator does not own must survive a self-update.
  const indexFile = path.join(root, 'index.json');
  const local = JSON.parse(readFileSync(indexFile, 'utf8')) as { metadata: Record<string, unknown> } & Record<string, unknown>;
  writeFileSync(indexFile, JSON.stringify({ ...local, metadata: { ...local.metadata, site: 'home' }, notes: { owner: 'ops' } }));
  // A visible change: the new release announces itself differently.
  repo.commit(patch(withVersion(currentProjectFiles(), '0.2.0'), 'src/orchestrator/run.ts', `'${MARK}'`, `'${MARK} (release 0.2.0 fixture)'`));
  // Builds, self-tests and re-executes a release: a successful path, with a deadline to match a loaded machine.
  const second = await runCli(args(root, repo.url), { timeoutMs: 600_000 });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /handing the run over to orchestrator 0\.2\.0/);
  assert.match(second.stderr, /release 0\.2\.0 fixture/, 'Phase 2 ran on the new code');
  const report = parse(second.stdout);
  assert.deepEqual({ from: report.orchestrator.from, to: report.orchestrator.to, status: report.orchestrator.status }, { from: '0.1.0', to: '0.2.0', status: 'updated' });
  assert.ok(report.modules.length > 0 && report.modules.every((m) => m.status === 'ok'), JSON.stringify(report.modules));
  assert.match(readlinkSync(path.join(root, 'releases', 'current')), /^0\.2\.0-[0-9a-f]{12}$/);
  // Its launcher ran its own CLI bundle, built by its scripts/bundle-cli.mjs from the changed sources.
  const bundle = readdirSync(path.join(root, 'releases', 'current', 'dist', 'bundle'));
  assert.ok(bundle.includes('main.cjs') && readFileSync(path.join(root, 'releases', 'current', 'dist', 'bundle', 'main.cjs'), 'utf8').includes('release 0.2.0 fixture'), bundle.join(' '));
  const state = JSON.parse(readFileSync(path.join(root, 'releases', 'state.json'), 'utf8')) as { pending?: unknown };
  assert.equal(state.pending, undefined, 'the first run confirmed the release');

  // The launcher now starts the new release; the global index keeps its packages.
  const version = await runCli(['--version', '--modules-path', root]);
  assert.equal(version.stdout.trim(), '0.2.0');
  const status = JSON.parse((await runCli(['status', '--json', '--modules-path', root])).stdout) as { orchestrator: { release: string; pending: unknown } };
  assert.match(status.orchestrator.release, /^0\.2\.0-/);
  assert.equal(status.orchestrator.pending, null);
  const idx = JSON.parse(readFileSync(path.join(root, 'index.json'), 'utf8')) as { metadata: { schema_version: string; site?: string }; packages: Record<string, string>; notes?: unknown };
  assert.equal(idx.metadata.schema_version, '0.2.0');
  assert.equal(idx.metadata.site, 'home');
  assert.deepEqual(idx.notes, { owner: 'ops' });
  assert.deepEqual(idx.packages, liveVersions(root));
  const third = await runCli(args(root, repo.url));
  assert.equal(third.code, 0, third.stderr);
  assert.equal(parse(third.stdout).orchestrator.status, 'current');
});

test('a release that bumps only index.json is refused, naming package.json as the file to fix', async () => {
  const repo = projectRepo();
  const root = traversableDir();
  assert.equal((await runCli(args(root, repo.url))).code, 0);
  const files = currentProjectFiles();
  const idx = JSON.parse(files['index.json'] ?? '{}') as { metadata: { schema_version: string } };
  idx.metadata.schema_version = '0.7.0';
  repo.commit({ ...files, 'index.json': `${JSON.stringify(idx, null, 2)}\n` });
  const r = await runCli(args(root, repo.url));
  assert.equal(r.code, 1, r.stderr);
  const report = parse(r.stdout);
  assert.equal(report.orchestrator.status, 'failed');
  assert.match(report.orchestrator.message ?? '', /0\.7\.0 was not installed: its two versions disagree: package\.json has version 0\.1\.0 .*set "version": "0\.7\.0" in package\.json/);
  assert.ok(report.modules.length > 0 && report.modules.every((m) => m.status === 'ok'), 'modules ran on the old orchestrator');
  assert.equal(existsSync(path.join(root, 'releases', 'current')), false);
  assert.equal((await runCli(['--version', '--modules-path', root])).stdout.trim(), '0.1.0');
});

test('a release that does not build is refused: exit 1, modules still run, the old orchestrator stays', async () => {
  const repo = projectRepo();
  const root = traversableDir();
  assert.equal((await runCli(args(root, repo.url))).code, 0);
  repo.commit(patch(withVersion(currentProjectFiles(), '0.3.0'), 'src/core/exit-codes.ts', 'export const EXIT', 'export const EXIT = = ;\nexport const EXIT_BROKEN'));
  const r = await runCli(args(root, repo.url));
  assert.equal(r.code, 1, r.stderr);
  const report = parse(r.stdout);
  assert.equal(report.orchestrator.status, 'failed');
  assert.match(report.orchestrator.message ?? '', /0\.3\.0 was not installed: it does not build/);
  assert.ok(report.modules.every((m) => m.status === 'ok'), 'modules ran on the old orchestrator');
  assert.equal(existsSync(path.join(root, 'releases', 'current')), false);
  const again = await runCli(args(root, repo.url));
  assert.equal(parse(again.stdout).orchestrator.status, 'held', 'a refused version is not rebuilt every run');
});

test('a release whose first run dies is rolled back in the same run, and the modules still run', async () => {
  const repo = projectRepo();
  const root = traversableDir();
  assert.equal((await runCli(args(root, repo.url))).code, 0);
  // Passes its self-test, then kills itself at the start of every real run.
  const files = patch(withVersion(currentProjectFiles(), '0.4.0'), 'src/orchestrator/run.ts', 'const layout = layoutOf(cfg.installRoot);', "process.kill(process.pid, 'SIGKILL');\n  const layout = layoutOf(cfg.installRoot);");
  repo.commit(files);
  const r = await runCli(args(root, repo.url));
  assert.equal(r.code, 1, r.stderr);
  const report = parse(r.stdout);
  assert.equal(report.orchestrator.status, 'rolled-back');
  assert.match(report.orchestrator.message ?? '', /0\.4\.0 failed its first run \(it was killed by SIGKILL\); rolled back to 0\.1\.0/);
  assert.ok(report.modules.length > 0 && report.modules.every((m) => m.status === 'ok'));
  assert.equal(existsSync(path.join(root, 'releases', 'current')), false);
  const version = await runCli(['--version', '--modules-path', root]);
  assert.equal(version.stdout.trim(), '0.1.0');
});

test('a release on trial that dies on the next run is rolled back by the launcher, which then runs the previous one', async () => {
  const repo = projectRepo();
  const root = traversableDir();
  assert.equal((await runCli(args(root, repo.url))).code, 0);
  repo.commit(patch(withVersion(currentProjectFiles(), '0.6.0'), 'src/orchestrator/run.ts', 'const layout = layoutOf(cfg.installRoot);', "process.kill(process.pid, 'SIGKILL');\n  const layout = layoutOf(cfg.installRoot);"));
  // The run that installed it is killed right after the flip: nobody saw the new release fail yet.
  const crashed = await runNode(['test/helpers/crash-runner.ts', root, repo.url, 'release-flipped', 'orchestrator']);
  assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
  const next = await runCli(args(root, repo.url));
  assert.match(next.stderr, /orchestrator 0\.6\.0 failed its first run \(killed by SIGKILL\); rolled back to 0\.1\.0/);
  assert.equal(next.code, 1, next.stderr);
  const report = parse(next.stdout);
  assert.equal(report.orchestrator.status, 'rolled-back');
  assert.ok(report.modules.length > 0 && report.modules.every((m) => m.status === 'ok'));
  const after = await runCli(args(root, repo.url));
  assert.equal(parse(after.stdout).orchestrator.status, 'held');
  assert.equal((await runCli(['--version', '--modules-path', root])).stdout.trim(), '0.1.0');
});

for (const step of ['release-files-written', 'release-published', 'release-pending', 'release-flipped'] as const) {
  test(`SIGKILL at "${step}" of a self-update leaves a working orchestrator that converges`, async () => {
    const repo = projectRepo();
    const root = traversableDir();
    assert.equal((await runCli(args(root, repo.url))).code, 0);
    repo.commit(withVersion(currentProjectFiles(), '0.5.0'));
    const crashed = await runNode(['test/helpers/crash-runner.ts', root, repo.url, step, 'orchestrator']);
    assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
    const next = await runCli(args(root, repo.url));
    assert.equal(next.code, 0, next.stderr);
    const report = parse(next.stdout);
    assert.ok(report.modules.length > 0 && report.modules.every((m) => m.status === 'ok'));
    const version = await runCli(['--version', '--modules-path', root]);
    assert.equal(version.stdout.trim(), '0.5.0');
  });
}
