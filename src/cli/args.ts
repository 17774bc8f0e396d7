/**
 * Command-line parsing: seed-compatible flags. Only what was given is returned; settings.ts layers it over
 * the config file and the defaults.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../core/defaults.js';
import { UpdatesError } from '../core/errors.js';
import type { Settings } from './settings.js';

export const COMMANDS = ['run', 'check', 'status', 'run-module', 'migrate-legacy', 'self-test', 'help', 'version'] as const;
export type Command = (typeof COMMANDS)[number];

export interface CliOptions {
  command: Command;
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
  /** Settings given as flags (they override the config file). */
  flags: Partial<Settings>;
}

export const HELP = `Usage: updates [run|check|status] [options]

Syncs the updates repository, installs every module whose schema_version is newer (atomically, keeping the
previous version for rollback), then runs every enabled module's main() in a sandbox.

Commands:
  run                     sync, install updates, run enabled modules (default)
  check                   report available updates without installing or running anything (= --check-only)
  status                  list installed modules, their versions and whether they are enabled
  run-module DIR [-- ARGS]
                          run one module from a folder as Phase 2 would, for module authors: bundled,
                          sandboxed, capabilities enforced; paths map under DIR/.updates-dev/root unless
                          --root is given, services are recorded unless --services is given
  migrate-legacy          write each legacy manifest.json entry's index.json into its module folder;
                          an existing, different index.json is reported and left as it is
  self-test               check that this build can bundle and run a module in the sandbox (exit 0 if so)

Options:
  --repo-url URL          git repository to sync (default: ${DEFAULTS.repoUrl})
  --branch NAME           branch to sync (default: ${DEFAULTS.branch})
  --modules-path PATH     install root (default: ${DEFAULTS.modulesPath})
  --local-repo PATH       private clone of the repository (default: <install root>/state/repo.git)
  --root DIR              map every absolute path (install root, clone, paths modules declare) under DIR,
                          as dpkg --root does: for tests and trying it out without root privileges
  --check-only            same as the check command
  --legacy                the seed's manifest.json mode: run the entrypoint's children in order, each only
                          if its folder matches its checksum; records lastApplied (nothing is synced)
  --json                  print the run report as one JSON document on stdout (logs stay on stderr)
  --wait                  wait for another run to finish instead of exiting with 75
  --config FILE           settings file (default: <install root>/config.json if it exists; flags win)
  --require-signed        install only from a commit with a good SSH signature by an allowed signer
  --allowed-signers FILE  the pinned allowed-signers file (ssh-keygen format) for --require-signed
  --allow-history-rewrite accept a fetched commit that does not descend from the last installed one
  --max-fetch-mb MB       stop a fetch that grows the clone by more than this (default: ${DEFAULTS.maxFetchBytes / 2 ** 20})
  --module-timeout SEC    deadline of each module's main(), overriding metadata.timeout_seconds
  --pool-size N           sandbox workers (default: ${DEFAULTS.poolSize})
  --sandbox-user NAME     user of the sandbox process (default: updates-sandbox if it exists, else nobody)
  --sandbox-memory-mb MB  memory cap of the sandbox process, off-heap memory included (default: 1024 or more)
  --services MODE         systemctl (default) runs systemctl for service requests; record only logs them
                          to state/services.log (for machines without systemd, e.g. the demo)
  --log-level LEVEL       trace, debug, info (default), warn, error
  -h, --help              this text
  -V, --version           the orchestrator's version

Exit codes:
  0    all good
  1    the run finished but something failed (the sync, a module's install or run); see the report
  2    usage or configuration error
  75   another run holds the lock (see --wait)
  100  check found updates to install
  130, 143  interrupted by SIGINT or SIGTERM; the saved report says "interrupted"

Files (under the install root): index.json (global index), modules/<name> (live versions), config.json,
state/last-run.json (last report), state/runs/ (history), state/metrics.prom (Prometheus textfile metrics).
`;

function positiveNumber(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UpdatesError('E_USAGE', { detail: `${flag} needs a positive number, got "${raw}"` });
  return n;
}

const OPTIONS = {
  'repo-url': { type: 'string' },
  'branch': { type: 'string' },
  'modules-path': { type: 'string' },
  'local-repo': { type: 'string' },
  'root': { type: 'string' },
  'check-only': { type: 'boolean' },
  'legacy': { type: 'boolean' },
  'json': { type: 'boolean' },
  'wait': { type: 'boolean' },
  'config': { type: 'string' },
  'require-signed': { type: 'boolean' },
  'allowed-signers': { type: 'string' },
  'allow-history-rewrite': { type: 'boolean' },
  'max-fetch-mb': { type: 'string' },
  'module-timeout': { type: 'string' },
  'pool-size': { type: 'string' },
  'services': { type: 'string' },
  'sandbox-user': { type: 'string' },
  'sandbox-memory-mb': { type: 'string' },
  'log-level': { type: 'string' },
  'help': { type: 'boolean', short: 'h' },
  'version': { type: 'boolean', short: 'V' },
} as const;

/** Parses argv (without node and script). Throws UpdatesError E_USAGE on anything it does not understand. */
export function parseCli(argv: string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
  } catch (err) {
    throw new UpdatesError('E_USAGE', { detail: (err as Error).message });
  }
  const { values: v, positionals } = parsed;
  const first = positionals[0] ?? 'run';
  if (first === 'run-module' && positionals[1] === undefined) throw new UpdatesError('E_USAGE', { detail: 'run-module needs a module folder: updates run-module DIR' });
  if (first !== 'run-module' && positionals.length > 1) throw new UpdatesError('E_USAGE', { detail: `unexpected argument "${positionals[1]}"` });
  if (!(COMMANDS as readonly string[]).includes(first)) throw new UpdatesError('E_USAGE', { detail: `unknown command "${first}"` });
  const command: Command = v.help ? 'help' : v.version ? 'version' : (first as Command);
  if (v.services !== undefined && v.services !== 'systemctl' && v.services !== 'record') {
    throw new UpdatesError('E_USAGE', { detail: `--services must be systemctl or record, got "${v.services}"` });
  }
  if (v.legacy && (command !== 'run' || v['check-only'])) {
    throw new UpdatesError('E_USAGE', { detail: '--legacy is a run mode of its own; it does not combine with check, --check-only or another command' });
  }
  const pool = positiveNumber('--pool-size', v['pool-size']);
  if (pool !== undefined && !Number.isInteger(pool)) throw new UpdatesError('E_USAGE', { detail: '--pool-size needs a whole number' });
  const flags: Partial<Settings> = {};
  if (v['repo-url'] !== undefined) flags.repoUrl = v['repo-url'];
  if (v.branch !== undefined) flags.branch = v.branch;
  if (v['local-repo'] !== undefined) flags.localRepo = v['local-repo'];
  if (v['require-signed']) flags.requireSigned = true;
  if (v['allowed-signers'] !== undefined) flags.allowedSigners = path.resolve(v['allowed-signers']);
  if (v['allow-history-rewrite']) flags.allowHistoryRewrite = true;
  const fetchMb = positiveNumber('--max-fetch-mb', v['max-fetch-mb']);
  if (fetchMb !== undefined) flags.maxFetchMb = fetchMb;
  const timeout = positiveNumber('--module-timeout', v['module-timeout']);
  if (timeout !== undefined) flags.moduleTimeoutSeconds = timeout;
  if (pool !== undefined) flags.poolSize = pool;
  if (v.services !== undefined) flags.services = v.services;
  if (v['sandbox-user'] !== undefined) flags.sandboxUser = v['sandbox-user'];
  const sandboxMb = positiveNumber('--sandbox-memory-mb', v['sandbox-memory-mb']);
  if (sandboxMb !== undefined) flags.sandboxMemoryMb = Math.round(sandboxMb);
  return Object.freeze({
    command,
    modulesPath: v['modules-path'] ?? DEFAULTS.modulesPath,
    root: path.resolve(v.root ?? '/'),
    checkOnly: command === 'check' || v['check-only'] === true,
    json: v.json === true,
    wait: v.wait === true,
    legacy: v.legacy === true,
    ...(first === 'run-module' ? { moduleDir: path.resolve(positionals[1] ?? '.'), moduleArgs: positionals.slice(2) } : {}),
    ...(v.config !== undefined ? { configFile: path.resolve(v.config) } : {}),
    ...(v['log-level'] !== undefined ? { logLevel: v['log-level'] } : {}),
    flags,
  });
}
