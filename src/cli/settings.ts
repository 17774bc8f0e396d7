/**
 * Run settings from four layers: defaults < the install root's config.json (older location, still read)
 * < /etc/updates-orchestrator/config.json (both under --root) < command-line flags. `--config FILE` replaces
 * both files. Files and flags are validated by the one schema in settings-schema.ts; an invalid file is a
 * configuration error (exit 2) that names the file and the key.
 */
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DEFAULTS } from '../core/defaults.js';
import { UpdatesError } from '../core/errors.js';
import { errnoCode } from '../core/errno.js';
import { validateSettings } from './settings-schema.js';
import type { Settings } from './settings-schema.js';

export type { Settings } from './settings-schema.js';
export { settingsSchema as configFileSchema } from './settings-schema.js';

/** The settings files read, in the order they are layered (the later wins): the install root's, then /etc's. */
export function configFilesOf(root: string, installRoot: string): string[] {
  return [path.join(installRoot, 'config.json'), root === '/' ? DEFAULTS.configFile : path.join(root, DEFAULTS.configFile)];
}

/** Reads one settings file; undefined when it does not exist and `required` is false. */
async function readOne(file: string, required: boolean): Promise<Partial<Settings> | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (!required && errnoCode(err) === 'ENOENT') return undefined;
    throw new UpdatesError('E_CONFIG', { detail: `cannot read the config file ${file}: ${(err as Error).message}` });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UpdatesError('E_CONFIG', { detail: `the config file ${file} is not valid JSON: ${(err as Error).message}` });
  }
  try {
    return validateSettings(json, (key) => `"${key}"`);
  } catch (err) {
    throw new UpdatesError('E_CONFIG', { detail: `the config file ${file} is invalid: ${(err as Error).message}` });
  }
}

/**
 * The settings of the config files: `explicit` alone when given (it must exist), else the install root's
 * config.json overlaid by /etc/updates-orchestrator/config.json (under `root`), each when it exists.
 */
export async function readConfigFile(installRoot: string, explicit?: string, root = '/'): Promise<Partial<Settings>> {
  if (explicit !== undefined) return (await readOne(explicit, true)) ?? {};
  let merged: Partial<Settings> = {};
  for (const file of configFilesOf(root, installRoot)) merged = { ...merged, ...(await readOne(file, false)) };
  return merged;
}

/**
 * Names git certainly accepts as a branch: "/"-separated components of letters, digits, "-", "_" and ".", none
 * empty, starting with "." or "-", or ending with ".lock" or ".", and no "..". Anything else is asked of git.
 */
const PLAIN_BRANCH = /^(?!HEAD$)(?!.*\.\.)(?:[A-Za-z0-9_][A-Za-z0-9._-]*(?<!\.lock)(?<!\.)\/)*[A-Za-z0-9_][A-Za-z0-9._-]*(?<!\.lock)(?<!\.)$/;

/** Whether git accepts `name` as a branch name (`git check-ref-format --branch`; plain names without a git process). */
function validBranch(name: string): Promise<boolean> {
  if (PLAIN_BRANCH.test(name)) return Promise.resolve(true);
  return new Promise((resolve) => {
    execFile('git', ['check-ref-format', '--branch', name], { timeout: 10_000 }, (err) => resolve(err === null));
  });
}

/** Merges the layers and checks what depends on more than one setting. */
export async function resolveSettings(file: Partial<Settings>, flags: Partial<Settings>): Promise<Settings> {
  const s: Settings = {
    branch: DEFAULTS.branch,
    requireSigned: false,
    allowHistoryRewrite: false,
    services: 'systemctl',
    ...file,
    ...flags,
  };
  if (s.branch.startsWith('-') || s.branch.includes('@{') || !(await validBranch(s.branch))) {
    throw new UpdatesError('E_CONFIG', { detail: `"${s.branch}" is not a valid branch name (git check-ref-format --branch refuses it); fix --branch or "branch" in the config file` });
  }
  if (s.requireSigned && s.allowedSigners === undefined) {
    throw new UpdatesError('E_CONFIG', { detail: 'signed sources are required but no allowed-signers file is set; pass --allowed-signers PATH or set "allowed_signers" in the config file' });
  }
  if (s.allowedSigners !== undefined) {
    const ok = await fsp.readFile(s.allowedSigners, 'utf8').then((t) => t.trim() !== '', () => false);
    if (!ok) throw new UpdatesError('E_CONFIG', { detail: `the allowed-signers file ${s.allowedSigners} is missing or empty` });
  }
  return Object.freeze(s);
}

/** The repository URL of a run; a configuration error naming the flag and the key when none is set. */
export function requireRepoUrl(s: Settings): string {
  if (s.repoUrl !== undefined) return s.repoUrl;
  throw new UpdatesError('E_CONFIG', {
    detail: `no repository is configured: pass --repo-url URL, or set "repo_url" in ${DEFAULTS.configFile} (for example "${DEFAULTS.exampleRepoUrl}")`,
  });
}
