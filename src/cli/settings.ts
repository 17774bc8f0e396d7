/**
 * Run settings from three layers: defaults < the install root's config.json < command-line flags.
 * The config file is validated with zod once; an invalid one is a configuration error (exit 2).
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULTS } from '../core/defaults.js';
import { UpdatesError } from '../core/errors.js';
import { describeIssues } from '../core/manifest.js';
import { errnoCode } from '../core/errno.js';

export interface Settings {
  repoUrl: string;
  branch: string;
  localRepo?: string;
  requireSigned: boolean;
  allowedSigners?: string;
  allowHistoryRewrite: boolean;
  maxFetchMb?: number;
  moduleTimeoutSeconds?: number;
  poolSize?: number;
  services: 'systemctl' | 'record';
  sandboxUser?: string;
  sandboxMemoryMb?: number;
}

/** The config file's schema: the same settings, snake_case as in the seed's JSON files. */
export const configFileSchema = z.strictObject({
  repo_url: z.string().min(1).optional(),
  branch: z.string().min(1).optional(),
  local_repo: z.string().min(1).optional(),
  require_signed: z.boolean().optional(),
  allowed_signers: z.string().min(1).optional(),
  allow_history_rewrite: z.boolean().optional(),
  max_fetch_mb: z.number().positive().optional(),
  module_timeout: z.number().positive().optional(),
  pool_size: z.number().int().positive().max(64).optional(),
  services: z.enum(['systemctl', 'record']).optional(),
  sandbox_user: z.string().min(1).optional(),
  sandbox_memory_mb: z.number().int().min(256).optional(),
});

/** Reads `<install root>/config.json` (or `explicit`); undefined when the default file does not exist. */
export async function readConfigFile(installRoot: string, explicit?: string): Promise<Partial<Settings>> {
  const file = explicit ?? path.join(installRoot, 'config.json');
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (explicit === undefined && errnoCode(err) === 'ENOENT') return {};
    throw new UpdatesError('E_CONFIG', { detail: `cannot read the config file ${file}: ${(err as Error).message}` });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UpdatesError('E_CONFIG', { detail: `the config file ${file} is not valid JSON: ${(err as Error).message}` });
  }
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success) throw new UpdatesError('E_CONFIG', { detail: `the config file ${file} is invalid: ${describeIssues(parsed.error)}` });
  const c = parsed.data;
  const out: Partial<Settings> = {};
  if (c.repo_url !== undefined) out.repoUrl = c.repo_url;
  if (c.branch !== undefined) out.branch = c.branch;
  if (c.local_repo !== undefined) out.localRepo = c.local_repo;
  if (c.require_signed !== undefined) out.requireSigned = c.require_signed;
  if (c.allowed_signers !== undefined) out.allowedSigners = c.allowed_signers;
  if (c.allow_history_rewrite !== undefined) out.allowHistoryRewrite = c.allow_history_rewrite;
  if (c.max_fetch_mb !== undefined) out.maxFetchMb = c.max_fetch_mb;
  if (c.module_timeout !== undefined) out.moduleTimeoutSeconds = c.module_timeout;
  if (c.pool_size !== undefined) out.poolSize = c.pool_size;
  if (c.services !== undefined) out.services = c.services;
  if (c.sandbox_user !== undefined) out.sandboxUser = c.sandbox_user;
  if (c.sandbox_memory_mb !== undefined) out.sandboxMemoryMb = c.sandbox_memory_mb;
  return out;
}

/** Merges the layers and checks what depends on more than one setting. */
export async function resolveSettings(file: Partial<Settings>, flags: Partial<Settings>): Promise<Settings> {
  const s: Settings = {
    repoUrl: DEFAULTS.repoUrl,
    branch: DEFAULTS.branch,
    requireSigned: false,
    allowHistoryRewrite: false,
    services: 'systemctl',
    ...file,
    ...flags,
  };
  if (s.requireSigned && s.allowedSigners === undefined) {
    throw new UpdatesError('E_CONFIG', { detail: 'signed sources are required but no allowed-signers file is set; pass --allowed-signers PATH' });
  }
  if (s.allowedSigners !== undefined) {
    const ok = await fsp.readFile(s.allowedSigners, 'utf8').then((t) => t.trim() !== '', () => false);
    if (!ok) throw new UpdatesError('E_CONFIG', { detail: `the allowed-signers file ${s.allowedSigners} is missing or empty` });
  }
  return Object.freeze(s);
}
