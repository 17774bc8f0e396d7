// Signed sources, anti-rollback by descent and the fetch size cap, against real signed git repositories.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fingerprint, liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import type { TestRepo } from '../helpers/repo.js';
import { runCli, runPhase1Only } from '../helpers/run.js';

/** A new ed25519 key; returns its private key file and its allowed-signers line. */
function makeKey(dir: string, name: string): { key: string; signer: string } {
  const key = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  const pub = readFileSync(`${key}.pub`, 'utf8').trim().split(' ');
  return { key, signer: `${name}@example.invalid ${pub[0]} ${pub[1]}\n` };
}

function signedCommit(repo: TestRepo, key: string, files: Record<string, string>): string {
  for (const [rel, content] of Object.entries(files)) {
    execFileSync('mkdir', ['-p', path.dirname(path.join(repo.dir, rel))]);
    writeFileSync(path.join(repo.dir, rel), content);
  }
  repo.git('add', '-A');
  repo.git('-c', 'gpg.format=ssh', '-c', `user.signingkey=${key}`, 'commit', '-q', '-S', '-m', 'signed change');
  return repo.git('rev-parse', 'HEAD');
}

/** An allowed key, a repository whose first module commit it signed, an empty install root and the policy. */
function signedSetup() {
  const keys = tempDir('uo-keys');
  const good = makeKey(keys, 'release');
  const signers = path.join(keys, 'allowed_signers');
  writeFileSync(signers, good.signer);
  const repo = makeRepo({ ...rootIndex() });
  signedCommit(repo, good.key, moduleFiles('web', { version: '1.0.0' }));
  return { keys, good, repo, root: tempDir(), trust: { allowedSigners: signers, allowHistoryRewrite: false } };
}

test('--require-signed installs a commit signed by an allowed key, and refuses unsigned or foreign-signed ones', async () => {
  const { keys, repo, root, trust } = signedSetup();
  const foreign = makeKey(keys, 'intruder');

  const ok = await runPhase1Only(root, repo.url, { trust });
  assert.equal(ok.exitCode, 0, JSON.stringify(ok.errors));
  assert.equal(ok.repository.signature, 'verified');
  assert.equal(liveVersions(root)['web'], '1.0.0');

  repo.commit(moduleFiles('web', { version: '1.1.0' }), 'unsigned bump');
  const before = fingerprint(root);
  const unsigned = await runPhase1Only(root, repo.url, { trust });
  assert.equal(unsigned.exitCode, 1);
  assert.equal(unsigned.errors[0]?.code, 'E_UNSIGNED');
  assert.match(unsigned.errors[0]?.message ?? '', /not signed/);
  assert.equal(fingerprint(root), before, 'nothing from the refused commit was installed');

  // git prints "Good signature" for this key, yet it is not in the allowed-signers file: the exit status decides.
  signedCommit(repo, foreign.key, moduleFiles('web', { version: '1.2.0' }));
  const intruder = await runPhase1Only(root, repo.url, { trust });
  assert.equal(intruder.exitCode, 1);
  assert.equal(intruder.errors[0]?.code, 'E_UNSIGNED');
  assert.match(intruder.errors[0]?.message ?? '', /not by a key in the allowed-signers file/);
  assert.equal(liveVersions(root)['web'], '1.0.0');
});

test('only the tip is verified: an unsigned commit in between does not stop a signed tip', async () => {
  const { good, repo, root, trust } = signedSetup();
  assert.equal((await runPhase1Only(root, repo.url, { trust })).exitCode, 0);
  repo.commit(moduleFiles('web', { version: '1.1.0' }), 'unsigned work in progress');
  signedCommit(repo, good.key, moduleFiles('web', { version: '1.2.0' }));
  const r = await runPhase1Only(root, repo.url, { trust });
  assert.equal(r.exitCode, 0, JSON.stringify(r.errors));
  assert.equal(liveVersions(root)['web'], '1.2.0');
});

test('--require-signed without an allowed-signers file is a configuration error (exit 2)', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const r = await runCli(['--require-signed', '--modules-path', tempDir(), '--repo-url', repo.url]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /allowed-signers/);
});

test('a remote forced back is refused (nothing changes) unless --allow-history-rewrite; then nothing is downgraded', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('alpha', { version: '1.0.0' }) });
  const first = repo.git('rev-parse', 'HEAD');
  repo.commit(moduleFiles('alpha', { version: '1.5.0' }));
  const root = tempDir();
  await runPhase1Only(root, repo.url);
  repo.git('reset', '-q', '--hard', first);
  repo.commit(moduleFiles('beta', { version: '1.0.0' }), 'diverged');
  const before = fingerprint(root);
  const refused = await runPhase1Only(root, repo.url);
  assert.equal(refused.exitCode, 1);
  assert.equal(refused.errors[0]?.code, 'E_SYNC_REWRITTEN');
  assert.match(refused.errors[0]?.message ?? '', /--allow-history-rewrite/);
  assert.equal(fingerprint(root), before);

  const allowed = await runPhase1Only(root, repo.url, { trust: { allowHistoryRewrite: true } });
  assert.equal(allowed.exitCode, 0, JSON.stringify(allowed.errors));
  assert.deepEqual(liveVersions(root), { alpha: '1.5.0', beta: '1.0.0' });
  assert.equal(allowed.updates.find((u) => u.module === 'alpha')?.status, 'kept-newer');
});

test('a fetch that grows the clone past the cap is stopped and nothing is installed', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('small', { version: '1.0.0' }) });
  const root = tempDir();
  await runPhase1Only(root, repo.url);
  // 3 MB of incompressible data against a 1 MB cap.
  const noise = randomBytes(3 * 2 ** 20).toString('base64');
  repo.commit({ ...moduleFiles('small', { version: '2.0.0' }), 'modules/small/data.txt': noise });
  const r = await runPhase1Only(root, repo.url, { maxFetchBytes: 2 ** 20 });
  assert.equal(r.exitCode, 1);
  assert.equal(r.errors[0]?.code, 'E_FETCH_TOO_LARGE');
  assert.equal(liveVersions(root)['small'], '1.0.0');
});
