/**
 * Trust checks on a fetched commit before anything from it is read: SSH signature against a pinned
 * allowed-signers file, and descent from the last installed commit (anti-rollback, anti-freeze by rewrite).
 */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { UpdatesError } from '../core/errors.js';
import { GIT_ENV, isAncestor } from './git.js';
import { DEFAULTS } from '../core/defaults.js';

export interface TrustPolicy {
  /** Path of an allowed-signers file (ssh-keygen format); when set, the commit must carry a good signature by one of them. */
  allowedSigners?: string;
  /** Accept a commit that does not descend from the last installed one. */
  allowHistoryRewrite: boolean;
}

/**
 * Verifies the commit's SSH signature with git, judged by the exit status alone: git prints
 * `Good "git" signature` on stderr even for a key the allowed-signers file does not list.
 *
 * Only the commit to be installed is verified. It names its tree by hash, so its signature covers every byte
 * that gets installed; intermediate commits install nothing. Replaying an older signed commit is stopped by
 * the descent check below, not by signatures.
 */
export async function verifySignature(repoDir: string, commit: string, allowedSigners: string): Promise<void> {
  const signers = await fsp.readFile(allowedSigners, 'utf8').catch(() => undefined);
  if (signers === undefined || signers.trim() === '') {
    throw new UpdatesError('E_CONFIG', { detail: `the allowed-signers file ${allowedSigners} is missing or empty` });
  }
  const args = ['-c', 'gpg.format=ssh', '-c', `gpg.ssh.allowedSignersFile=${allowedSigners}`, 'verify-commit', '--raw', commit];
  const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile('git', args, { cwd: repoDir, env: { ...GIT_ENV }, timeout: DEFAULTS.signatureCheckTimeoutMs }, (err, _out, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stderr });
    });
  });
  if (result.code !== 0) {
    const why = /no signature/i.test(result.stderr) || result.stderr.trim() === '' ? 'it is not signed' : 'its signature is not by a key in the allowed-signers file';
    throw new UpdatesError('E_UNSIGNED', { commit: commit.slice(0, 12), detail: why, signers: allowedSigners });
  }
}

/** Refuses a commit that does not descend from the last installed one, unless the policy allows rewrites. */
export async function checkDescent(repoDir: string, lastCommit: string | undefined, commit: string, policy: TrustPolicy): Promise<'ok' | 'rewritten-allowed'> {
  if (lastCommit === undefined || lastCommit === commit) return 'ok';
  if (await isAncestor(repoDir, lastCommit, commit)) return 'ok';
  if (policy.allowHistoryRewrite) return 'rewritten-allowed';
  throw new UpdatesError('E_SYNC_REWRITTEN', { fetched: commit.slice(0, 12), installed: lastCommit.slice(0, 12) });
}
