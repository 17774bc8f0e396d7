/**
 * Command-line parsing: seed-compatible flags. Only what was given is returned; settings.ts layers it over
 * the config file and the defaults.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../core/defaults.js';
import { UpdatesError } from '../core/errors.js';
import { MODULE_NAME_RE } from '../core/module-name.js';
import { didYouMean } from '../core/suggest.js';
import { SETTINGS, flagOf, flagValue, validateSettings } from './settings-schema.js';
import type { Settings } from './settings-schema.js';

/** Log levels --log-level and UPDATES_LOG_LEVEL accept (pino's). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export interface CliOptions {
  /** The first positional argument (default `run`); main.ts checks it against its command table. */
  command: string;
  modulesPath: string;
  root: string;
  checkOnly: boolean;
  json: boolean;
  wait: boolean;
  /** --legacy: run the seed's manifest.json mode instead of sync + install + run. */
  legacy: boolean;
  configFile?: string;
  logLevel?: string;
  /** run-module: the module folder and the arguments after "--" for its main(). */
  moduleDir?: string;
  moduleArgs?: string[];
  /** validate: the module folders given (none: every folder of ./modules, or the current folder). */
  dirs?: string[];
  /** new-module: the new module's name; --dir: the repository it goes in (default: the current folder). */
  newModule?: string;
  dir?: string;
  /** --check: run modules with a broker that plans instead of acting; --diff: with unified diffs of planned writes. */
  check: boolean;
  diff: boolean;
  /** hold, unhold, rollback: the module; hold --reason: why. */
  module?: string;
  reason?: string;
  /** history -n: how many runs. */
  limit?: number;
  /** Settings given as flags (they override the config files). */
  flags: Partial<Settings>;
  /** Whether --root was given (run-module maps under its own scratch root otherwise). */
  rootGiven: boolean;
}

/** Commands that take a module name (hold without one lists the holds). */
const MODULE_COMMANDS = new Set(['hold', 'unhold', 'rollback']);

export const HELP = `Usage: updates [run|check|status|history|hold|unhold|rollback|doctor|validate|new-module] [options]

Syncs the updates repository, installs every module whose schema_version is newer (atomically, keeping the
previous version for rollback), then runs every enabled module's main() in a sandbox.

Commands:
  run                     sync, install updates, run enabled modules (default)
  check                   report available updates without installing or running anything (= --check-only);
                          run --check also plans every module's run (see --check)
  status                  per module: live and previous version, held or not and why, last outcome;
                          the orchestrator release and the last run's recap
  history [-n N]          past runs, newest first: when, duration, exit code, what installed, what failed
  hold MODULE [--reason TEXT]
                          keep MODULE at its live version (never updated or downgraded) until unhold;
                          without MODULE, list the holds
  unhold MODULE           release an operator's hold
  rollback MODULE         flip MODULE back to its previous version (under the run lock); the version
                          rolled back is held until the repository carries a newer one
  run-module DIR [--check [--diff]] [-- ARGS]
                          run one module from a folder as Phase 2 would, for module authors: bundled,
                          sandboxed, capabilities enforced; paths map under DIR/.updates-dev/root unless
                          --root is given, services are recorded unless --services is given
  validate [DIR...]       check module folders as an install would (strict index.json, folder content,
                          imports, bundle, capabilities): one line per module, exit 1 if one fails;
                          without DIR, every folder of ./modules (or the current folder)
  new-module NAME [--dir DIR]
                          scaffold modules/NAME (index.json with every default, index.ts using the SDK)
                          in the module repository DIR (default: the current folder), plus tsconfig.json,
                          .gitignore and eslint.config.mjs there when missing
  migrate-legacy          write each legacy manifest.json entry's index.json into its module folder;
                          an existing, different index.json is reported and left as it is
  self-test               check that this build can bundle and run a module in the sandbox (exit 0 if so)
  doctor                  check this machine's installation: one line per check, exit 1 if one failed

Options:
  --repo-url URL          git repository to sync (no default: set it here or as repo_url in the config file,
                          e.g. ${DEFAULTS.exampleRepoUrl})
  --branch NAME           branch to sync (default: ${DEFAULTS.branch})
  --modules-path PATH     install root (default: ${DEFAULTS.modulesPath}); a relative PATH is relative to
                          --root when given, else to the current folder
  --local-repo PATH       private clone of the repository (default: <install root>/state/repo.git);
                          relative as --modules-path
  --root DIR              map every absolute path (install root, clone, paths modules declare) under DIR,
                          as dpkg --root does: for tests and trying it out without root privileges
  --check-only            same as the check command
  --check                 run and run-module: plan instead of act. Phase 1 only reports (as check does),
                          then modules run with a broker that reads but does not write, chmod, chown,
                          run commands or touch services; the report lists each module's planned changes
  --diff                  with --check: a unified diff of every planned file write
  --dir DIR               new-module: the module repository to scaffold in
  --legacy                the seed's manifest.json mode: run the entrypoint's children in order, each only
                          if its folder matches its checksum; records lastApplied (nothing is synced)
  --json                  print the run report as one JSON document on stdout (logs stay on stderr)
  --wait                  wait for another run to finish instead of exiting with 75
  --config FILE           settings file to read instead of ${DEFAULTS.configFile} and
                          <install root>/config.json (both read when present; /etc's wins, flags win over both)
  --require-signed        install only from a commit with a good SSH signature by an allowed signer
  --allowed-signers FILE  the pinned allowed-signers file (ssh-keygen format) for --require-signed
  --allow-history-rewrite accept a fetched commit that does not descend from the last installed one
  --max-fetch-mb MB       stop a fetch that grows the clone by more than this (default: ${DEFAULTS.maxFetchBytes / 2 ** 20})
  --fetch-timeout SEC     deadline of each network operation of git (default: ${DEFAULTS.fetchTimeoutMs / 1000})
  --module-timeout SEC    deadline of each module's main(), overriding metadata.timeout_seconds
                          (at most ${DEFAULTS.maxModuleTimeoutSeconds})
  --pool-size N           sandbox workers, 1 to ${DEFAULTS.maxPoolSize} (default: ${DEFAULTS.poolSize})
  --sandbox-user NAME     user of the sandbox process (default: updates-sandbox if it exists, else nobody)
  --sandbox-memory-mb MB  memory cap of the sandbox process, off-heap memory included, at least 256
                          (default: 1024 or more)
  --services MODE         systemctl (default) runs systemctl for service requests; record only logs them
                          to state/services.log (for machines without systemd, e.g. the demo)
  --log-level LEVEL       trace, debug, info (default), warn, error, fatal, silent (or UPDATES_LOG_LEVEL)
  --notify-command CMD    after a run, run CMD (through /bin/sh -c) with the JSON report on stdin
                          (config: notify_command, an argv array run without a shell)
  --notify-on WHEN        failure (default), change (failure or anything changed) or always
  --metrics-file FILE     Prometheus metrics file (default: <install root>/metrics/updates.prom)
  --reason TEXT           hold: why (shown by status, hold and every run's report)
  -n N                    history: how many runs (default: ${DEFAULTS.historyShown})
  -h, --help              this text
  -V, --version           the orchestrator's version

Exit codes:
  0    all good
  1    the run finished but something failed (the sync, a module's install or run); see the report
  2    usage or configuration error
  75   another run holds the lock (see --wait)
  100  check found updates to install
  130, 143  interrupted by SIGINT or SIGTERM; the saved report says "interrupted"

Files: ${DEFAULTS.configFile} (settings, under --root); under the install root: index.json
(global index), modules/<name> (live versions), config.json (older settings file), state/last-run.json (last report), state/runs/ (history), state/holds.json (operator holds),
metrics/updates.prom (Prometheus textfile metrics, readable by other users).
`;

const OPTIONS = {
  'repo-url': { type: 'string' },
  'branch': { type: 'string' },
  'modules-path': { type: 'string' },
  'local-repo': { type: 'string' },
  'root': { type: 'string' },
  'check-only': { type: 'boolean' },
  'check': { type: 'boolean' },
  'diff': { type: 'boolean' },
  'dir': { type: 'string' },
  'legacy': { type: 'boolean' },
  'json': { type: 'boolean' },
  'wait': { type: 'boolean' },
  'config': { type: 'string' },
  'require-signed': { type: 'boolean' },
  'allowed-signers': { type: 'string' },
  'allow-history-rewrite': { type: 'boolean' },
  'max-fetch-mb': { type: 'string' },
  'fetch-timeout': { type: 'string' },
  'module-timeout': { type: 'string' },
  'pool-size': { type: 'string' },
  'services': { type: 'string' },
  'sandbox-user': { type: 'string' },
  'sandbox-memory-mb': { type: 'string' },
  'log-level': { type: 'string' },
  'notify-command': { type: 'string' },
  'notify-on': { type: 'string' },
  'metrics-file': { type: 'string' },
  'reason': { type: 'string' },
  'n': { type: 'string', short: 'n' },
  'help': { type: 'boolean', short: 'h' },
  'version': { type: 'boolean', short: 'V' },
} as const;

/** --check goes with run and run-module, --diff with --check, --dir with new-module. */
function checkPlanFlags(command: string, v: { check?: boolean; diff?: boolean; dir?: string; legacy?: boolean }): void {
  if (v.check === true && command !== 'run' && command !== 'run-module') {
    throw new UpdatesError('E_USAGE', { detail: `--check goes with run and run-module (plan without acting)${command === 'check' ? '; "updates check" alone reports updates, "updates run --check" also plans the modules\' runs' : ''}` });
  }
  if (v.check === true && v.legacy === true) throw new UpdatesError('E_USAGE', { detail: '--check does not combine with --legacy' });
  if (v.diff === true && v.check !== true) throw new UpdatesError('E_USAGE', { detail: '--diff goes with --check: updates run-module DIR --check --diff' });
  if (v.dir !== undefined && command !== 'new-module') throw new UpdatesError('E_USAGE', { detail: '--dir goes with new-module NAME' });
}

/** Parses argv (without node and script). Throws UpdatesError E_USAGE on anything it does not understand. */
export function parseCli(argv: string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (err) {
    const unknown = /Unknown option '(--?[^']+)'/.exec((err as Error).message)?.[1];
    const hint = unknown !== undefined ? didYouMean(unknown, Object.keys(OPTIONS).map((o) => `--${o}`)) : undefined;
    throw new UpdatesError('E_USAGE', { detail: `${(err as Error).message.split('. ')[0] ?? ''}${hint !== undefined ? ` (did you mean ${hint}?)` : ''}` });
  }
  const { values: v, positionals } = parsed;
  const first = positionals[0] ?? 'run';
  if (first === 'run-module' && positionals[1] === undefined) throw new UpdatesError('E_USAGE', { detail: 'run-module needs a module folder: updates run-module DIR' });
  if ((first === 'unhold' || first === 'rollback') && positionals[1] === undefined) throw new UpdatesError('E_USAGE', { detail: `${first} needs a module name: updates ${first} MODULE` });
  const moduleArg = MODULE_COMMANDS.has(first) ? positionals[1] : undefined;
  if (moduleArg !== undefined && !MODULE_NAME_RE.test(moduleArg)) throw new UpdatesError('E_USAGE', { detail: `"${moduleArg}" is not a module name (lower-case letters, digits, ".", "_" or "-")` });
  if (first === 'new-module' && (positionals[1] === undefined || !MODULE_NAME_RE.test(positionals[1]))) throw new UpdatesError('E_USAGE', { detail: `new-module needs a module name (lower-case letters, digits, ".", "_" or "-"): updates new-module NAME${positionals[1] !== undefined ? `, got "${positionals[1]}"` : ''}` });
  const extraPositionals = first === 'run-module' || first === 'validate' ? Infinity : first === 'new-module' || moduleArg !== undefined ? 2 : 1;
  if (positionals.length > extraPositionals) throw new UpdatesError('E_USAGE', { detail: `unexpected argument "${positionals[moduleArg !== undefined ? 2 : 1]}"` });
  if (v.reason !== undefined && (first !== 'hold' || moduleArg === undefined)) throw new UpdatesError('E_USAGE', { detail: '--reason goes with hold MODULE' });
  const limit = v.n !== undefined ? Number(v.n) : undefined;
  if (limit !== undefined && (first !== 'history' || !Number.isInteger(limit) || limit < 1)) throw new UpdatesError('E_USAGE', { detail: `-n N (a whole number, at least 1) goes with history, got "${v.n}"` });
  const command = v.help ? 'help' : v.version ? 'version' : first;
  checkPlanFlags(command, v);
  if (v.legacy && (command !== 'run' || v['check-only'])) {
    throw new UpdatesError('E_USAGE', { detail: '--legacy is a run mode of its own; it does not combine with check, --check-only or another command' });
  }
  if (v['log-level'] !== undefined && !(LOG_LEVELS as readonly string[]).includes(v['log-level'])) {
    throw new UpdatesError('E_USAGE', { detail: `--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${v['log-level']}"` });
  }
  // A relative --modules-path or --local-repo is relative to --root when it is given (so it is mapped under
  // it like an absolute one), else to the current folder.
  const inRoot = (p: string): string => (path.isAbsolute(p) ? p : v.root !== undefined ? path.posix.join('/', p) : path.resolve(p));
  // Flags become config keys and go through the config file's schema: one set of rules for both.
  const raw: Record<string, unknown> = {};
  const values = v as Record<string, string | boolean | undefined>;
  for (const s of SETTINGS) {
    const value = values[flagOf(s.key).slice(2)];
    if (value === undefined || value === false) continue;
    raw[s.key] = typeof value !== 'string' ? value : s.key === 'allowed_signers' || s.key === 'metrics_file' ? path.resolve(value) : s.key === 'local_repo' ? inRoot(value) : flagValue(s.kind, value);
  }
  let flags: Partial<Settings>;
  try {
    flags = validateSettings(raw, flagOf);
  } catch (err) {
    throw new UpdatesError('E_USAGE', { detail: (err as Error).message });
  }
  return Object.freeze({
    command,
    modulesPath: inRoot(v['modules-path'] ?? DEFAULTS.modulesPath),
    root: path.resolve(v.root ?? '/'),
    rootGiven: v.root !== undefined,
    // run --check reports Phase 1 as check does: nothing is installed.
    checkOnly: command === 'check' || v['check-only'] === true || v.check === true,
    json: v.json === true,
    wait: v.wait === true,
    legacy: v.legacy === true,
    check: v.check === true,
    diff: v.diff === true,
    ...(first === 'validate' ? { dirs: positionals.slice(1).map((d) => path.resolve(d)) } : {}),
    ...(first === 'new-module' ? { newModule: positionals[1] ?? '', dir: path.resolve(v.dir ?? '.') } : {}),
    ...(first === 'run-module' ? { moduleDir: path.resolve(positionals[1] ?? '.'), moduleArgs: positionals.slice(2) } : {}),
    ...(v.config !== undefined ? { configFile: path.resolve(v.config) } : {}),
    ...(v['log-level'] !== undefined ? { logLevel: v['log-level'] } : {}),
    ...(moduleArg !== undefined ? { module: moduleArg } : {}),
    ...(v.reason !== undefined ? { reason: v.reason } : {}),
    ...(limit !== undefined ? { limit } : {}),
    flags,
  });
}
