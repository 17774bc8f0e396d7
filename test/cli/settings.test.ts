// Settings layers: defaults < <install root>/config.json < flags; an invalid file is a configuration error.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readConfigFile, resolveSettings } from '../../src/cli/settings.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runCli } from '../helpers/run.js';

function rootWithConfig(config: unknown): string {
  const root = tempDir();
  mkdirSync(root, { recursive: true });
  writeFileSync(path.join(root, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return root;
}

test('config.json supplies settings, flags override them, defaults fill the rest', async () => {
  const root = rootWithConfig({ repo_url: 'file:///from-config', branch: 'stable', services: 'record', pool_size: 3 });
  const file = await readConfigFile(root);
  const s = await resolveSettings(file, { branch: 'from-flag' });
  assert.equal(s.repoUrl, 'file:///from-config');
  assert.equal(s.branch, 'from-flag');
  assert.equal(s.services, 'record');
  assert.equal(s.poolSize, 3);
  assert.equal(s.requireSigned, false);
});

test('a missing default config file is fine; a missing --config file is an error', async () => {
  assert.deepEqual(await readConfigFile(tempDir()), {});
  await assert.rejects(readConfigFile(tempDir(), '/nonexistent/config.json'), { code: 'E_CONFIG' });
});

test('an invalid config.json is a configuration error naming the field: exit 2, nothing runs', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = rootWithConfig({ repo_url: repo.url, pool_size: 'many', colour: 'blue' });
  const r = await runCli(['--modules-path', root]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /config\.json is invalid: .*pool_size/);
  const notJson = rootWithConfig('{ repo_url: ');
  const r2 = await runCli(['--modules-path', notJson]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /not valid JSON/);
});

test('the repository URL can come from config.json alone', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = rootWithConfig({ repo_url: repo.url, services: 'record' });
  const r = await runCli(['--modules-path', root, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { repository: { url: string } }).repository.url, repo.url);
});

test('/etc/updates-orchestrator/config.json under --root is read, and wins over the install root\'s config.json', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  const install = path.join(root, 'var/local/lib/updates');
  mkdirSync(path.join(root, 'etc/updates-orchestrator'), { recursive: true });
  mkdirSync(install, { recursive: true });
  writeFileSync(path.join(install, 'config.json'), JSON.stringify({ repo_url: 'file:///nowhere', services: 'record', branch: 'main' }));
  writeFileSync(path.join(root, 'etc/updates-orchestrator/config.json'), JSON.stringify({ repo_url: repo.url }));
  const r = await runCli(['--root', root, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { repository: { url: string; branch: string } };
  assert.equal(report.repository.url, repo.url, '/etc wins');
  assert.equal(report.repository.branch, 'main', 'keys only in the install root\'s file still apply');
});

test('an unknown key in config.json is an error with a did-you-mean', async () => {
  const root = rootWithConfig({ repo_url: 'file:///x', pool_sise: 2 });
  const r = await runCli(['--modules-path', root]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /"pool_sise" is not a setting; did you mean "pool_size"\?/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('with no repository configured, a run exits 2 and names the flag and the config key', async () => {
  const root = tempDir();
  const r = await runCli(['run', '--root', root]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /no repository is configured: pass --repo-url URL, or set "repo_url" in \/etc\/updates-orchestrator\/config\.json/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

// The same limits hold for a flag and for its config key: one schema validates both.
const LIMITS: [string, string, number, RegExp][] = [
  ['--pool-size', 'pool_size', 1000, /at most 64/],
  ['--sandbox-memory-mb', 'sandbox_memory_mb', 1, /at least 256/],
  ['--module-timeout', 'module_timeout', 3_000_000, /at most 2147483 seconds/],
];
for (const [flag, key, value, reason] of LIMITS) {
  test(`${flag} ${value} is refused on the command line as "${key}" is in config.json: exit 2, one line`, async () => {
    const fromFlag = await runCli(['--root', tempDir(), '--repo-url', 'file:///x', flag, String(value)]);
    assert.equal(fromFlag.code, 2, fromFlag.stderr);
    assert.match(fromFlag.stderr, new RegExp(`${flag}: must be ${reason.source}`));
    const fromFile = await runCli(['--modules-path', rootWithConfig({ repo_url: 'file:///x', [key]: value })]);
    assert.equal(fromFile.code, 2, fromFile.stderr);
    assert.match(fromFile.stderr, new RegExp(`"${key}": must be ${reason.source}`));
    for (const r of [fromFlag, fromFile]) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });
}

test('a branch name git refuses exits 2, from a flag or from config.json', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  for (const bad of ['a..b', 'x y', '-rf']) {
    const r = await runCli(['--root', tempDir(), '--repo-url', repo.url, `--branch=${bad}`]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /not a valid branch name/);
  }
  const r = await runCli(['--modules-path', rootWithConfig({ repo_url: repo.url, branch: 'a..b' })]);
  assert.equal(r.code, 2, r.stderr);
});

test('a relative --modules-path or --local-repo is refused (it could not be mapped under --root)', async () => {
  for (const flag of ['--modules-path', '--local-repo']) {
    const r = await runCli(['--root', tempDir(), '--repo-url', 'file:///x', flag, 'relative/dir']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${flag} must be an absolute path`));
  }
  const r = await runCli(['--modules-path', rootWithConfig({ repo_url: 'file:///x', local_repo: 'clone.git' })]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /"local_repo": the private clone must be an absolute path/);
});

test('usage errors are one line on stderr and exit 2, with no stack trace: bad log level, command, flag', async () => {
  const cases: [string[], RegExp, NodeJS.ProcessEnv?][] = [
    [['run', '--log-level', 'bogus'], /--log-level must be one of trace, debug, info/],
    [['status'], /UPDATES_LOG_LEVEL must be one of/, { UPDATES_LOG_LEVEL: 'loud' }],
    [['doctr'], /unknown command "doctr" \(did you mean "doctor"\?\)/],
    [['--repo-ur', 'x'], /Unknown option '--repo-ur' \(did you mean --repo-url\?\)/],
    [['--pool-size', 'many'], /--pool-size: .*number/],
  ];
  for (const [args, message, env] of cases) {
    const r = await runCli(args, env !== undefined ? { env } : {});
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
