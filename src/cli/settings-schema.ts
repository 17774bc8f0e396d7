/**
 * The one schema of the run settings, shared by config.json and the command line: each setting has a
 * config key (snake_case, as in the seed's JSON files), a flag and a field of `Settings`. Both sources are
 * validated by `settingsSchema`, so a value refused in one is refused in the other, with the same reason.
 * zod/mini (with zod's English messages, zod-messages.ts): every command parses its flags with this schema before
 * anything else, and classic zod would be the largest part of what `updates` loads to get there.
 */
import * as z from 'zod/mini';
import '../core/zod-messages.js';
import { DEFAULTS } from '../core/defaults.js';
import { didYouMean } from '../core/suggest.js';
import { NOTIFY_ON } from '../orchestrator/notify.js';
import type { NotifyOn } from '../orchestrator/notify.js';

export interface Settings {
  /** The repository to sync; there is no default (a run without one is a configuration error). */
  repoUrl?: string;
  branch: string;
  localRepo?: string;
  requireSigned: boolean;
  allowedSigners?: string;
  allowHistoryRewrite: boolean;
  maxFetchMb?: number;
  fetchTimeoutSeconds?: number;
  moduleTimeoutSeconds?: number;
  poolSize?: number;
  services: 'systemctl' | 'record';
  sandboxUser?: string;
  sandboxMemoryMb?: number;
  /** Run after a run with the JSON report on stdin (argv, no shell), when `notifyOn` says so. */
  notifyCommand?: string[];
  notifyOn?: NotifyOn;
  /** Where the Prometheus metrics go (absolute; mapped under --root by the commands). */
  metricsFile?: string;
}

const nonEmpty = () => z.string().check(z.minLength(1));
const absolute = (what: string) => nonEmpty().check(z.refine((p) => p.startsWith('/'), `${what} must be an absolute path`));
const positive = () => z.number().check(z.positive());
const whole = () => z.number().check(z.int('must be a whole number'));

/** config.json's keys; a flag with the same name in kebab-case sets the same value. */
export const settingsSchema = z.strictObject({
  repo_url: z.optional(nonEmpty()),
  branch: z.optional(nonEmpty()),
  local_repo: z.optional(absolute('the private clone')),
  require_signed: z.optional(z.boolean()),
  allowed_signers: z.optional(absolute('the allowed-signers file')),
  allow_history_rewrite: z.optional(z.boolean()),
  max_fetch_mb: z.optional(positive()),
  fetch_timeout: z.optional(positive().check(z.maximum(DEFAULTS.maxFetchTimeoutSeconds, `must be at most ${DEFAULTS.maxFetchTimeoutSeconds} seconds (a day)`))),
  module_timeout: z.optional(positive().check(z.maximum(DEFAULTS.maxModuleTimeoutSeconds, `must be at most ${DEFAULTS.maxModuleTimeoutSeconds} seconds (about 24 days)`))),
  pool_size: z.optional(whole().check(z.positive(), z.maximum(DEFAULTS.maxPoolSize, `must be at most ${DEFAULTS.maxPoolSize}`))),
  services: z.optional(z.enum(['systemctl', 'record'])),
  sandbox_user: z.optional(nonEmpty()),
  sandbox_memory_mb: z.optional(whole().check(z.minimum(256, 'must be at least 256 (MB)'))),
  notify_command: z.optional(z.array(nonEmpty(), 'must be a command as an array of strings, e.g. ["/usr/local/bin/notify", "--to", "ops"]').check(z.minLength(1))),
  notify_on: z.optional(z.enum(NOTIFY_ON, `must be ${NOTIFY_ON.slice(0, -1).join(', ')} or ${NOTIFY_ON.at(-1) ?? ''}`)),
  metrics_file: z.optional(absolute('the metrics file')),
});
export type SettingsFile = z.infer<typeof settingsSchema>;
export type SettingKey = keyof SettingsFile;

/** `argv`: an array of strings in config.json; a flag gives one shell command line, run as `/bin/sh -c LINE`. */
type Kind = 'string' | 'number' | 'boolean' | 'argv';
/** Every setting: its config key, its flag, its field, and the kind of value a flag carries. */
export const SETTINGS: readonly { key: SettingKey; field: keyof Settings; kind: Kind }[] = [
  { key: 'repo_url', field: 'repoUrl', kind: 'string' },
  { key: 'branch', field: 'branch', kind: 'string' },
  { key: 'local_repo', field: 'localRepo', kind: 'string' },
  { key: 'require_signed', field: 'requireSigned', kind: 'boolean' },
  { key: 'allowed_signers', field: 'allowedSigners', kind: 'string' },
  { key: 'allow_history_rewrite', field: 'allowHistoryRewrite', kind: 'boolean' },
  { key: 'max_fetch_mb', field: 'maxFetchMb', kind: 'number' },
  { key: 'fetch_timeout', field: 'fetchTimeoutSeconds', kind: 'number' },
  { key: 'module_timeout', field: 'moduleTimeoutSeconds', kind: 'number' },
  { key: 'pool_size', field: 'poolSize', kind: 'number' },
  { key: 'services', field: 'services', kind: 'string' },
  { key: 'sandbox_user', field: 'sandboxUser', kind: 'string' },
  { key: 'sandbox_memory_mb', field: 'sandboxMemoryMb', kind: 'number' },
  { key: 'notify_command', field: 'notifyCommand', kind: 'argv' },
  { key: 'notify_on', field: 'notifyOn', kind: 'string' },
  { key: 'metrics_file', field: 'metricsFile', kind: 'string' },
];

/** `repo_url` → `--repo-url`. */
export const flagOf = (key: string): string => `--${key.replace(/_/g, '-')}`;

/**
 * Validates raw settings (from a file, or from flags turned into config keys) and returns the `Settings`
 * fields they set. `describe` names a key in messages: the flag, or the key in its file. Throws an Error
 * whose message says what to fix (the caller wraps it as a usage or configuration error).
 */
export function validateSettings(raw: unknown, describe: (key: string) => string): Partial<Settings> {
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys') {
        return i.keys
          .map((k) => {
            const hint = didYouMean(k, SETTINGS.map((s) => s.key));
            return `${describe(k)} is not a setting${hint !== undefined ? `; did you mean "${hint}"?` : ` (known: ${SETTINGS.map((s) => s.key).join(', ')})`}`;
          })
          .join('; ');
      }
      const key = typeof i.path[0] === 'string' ? i.path[0] : undefined;
      return key !== undefined ? `${describe(key)}: ${i.message}` : i.message;
    });
    throw new Error(problems.join('; '));
  }
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const value = parsed.data[s.key];
    if (value !== undefined) out[s.field] = value;
  }
  return out;
}

/** A flag's string turned into the kind its setting holds (a non-number stays a string, which zod refuses). */
export function flagValue(kind: Kind, raw: string | boolean): unknown {
  if (kind === 'argv' && typeof raw === 'string') return ['/bin/sh', '-c', raw];
  if (kind !== 'number' || typeof raw !== 'string') return raw;
  const n = Number(raw);
  return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
}
