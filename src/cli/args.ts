/**
 * Command-line parsing: seed-compatible flags, validated once into a frozen options object.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../orchestrator/defaults.js';
import { UpdatesError } from '../orchestrator/errors.js';

export const COMMANDS = ['run', 'check', 'status', 'help', 'version'] as const;
export type Command = (typeof COMMANDS)[number];

export interface CliOptions {
  command: Command;
  repoUrl: string;
  branch: string;
  modulesPath: string;
  localRepo?: string;
  root: string;
  checkOnly: boolean;
  json: boolean;
  wait: boolean;
  moduleTimeoutSeconds?: number;
  poolSize?: number;
  services: 'systemctl' | 'record';
  logLevel?: string;
}

export const HELP = `Usage: updates [run|check|status] [options]

Syncs the updates repository, installs every module whose schema_version is newer (atomically, keeping the
previous version for rollback), then runs every enabled module's main() in a sandbox.

Commands:
  run                     sync, install updates, run enabled modules (default)
  check                   report available updates without installing or running anything (= --check-only)
  status                  list installed modules, their versions and whether they are enabled

Options:
  --repo-url URL          git repository to sync (default: ${DEFAULTS.repoUrl})
  --branch NAME           branch to sync (default: ${DEFAULTS.branch})
  --modules-path PATH     install root (default: ${DEFAULTS.modulesPath})
  --local-repo PATH       private clone of the repository (default: <install root>/state/repo.git)
  --root DIR              map every absolute path (install root, clone, paths modules declare) under DIR,
                          as dpkg --root does: for tests and trying it out without root privileges
  --check-only            same as the check command
  --json                  print the run report as one JSON document on stdout (logs stay on stderr)
  --wait                  wait for another run to finish instead of exiting with 75
  --module-timeout SEC    deadline of each module's main(), overriding metadata.timeout_seconds
  --pool-size N           sandbox workers (default: ${DEFAULTS.poolSize})
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

Files (under the install root): index.json (global index), modules/<name> (live versions),
state/last-run.json (last report), state/runs/ (history), state/metrics.prom (Prometheus textfile metrics).
`;

function positiveNumber(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UpdatesError('E_USAGE', { detail: `${flag} needs a positive number, got "${raw}"` });
  return n;
}

/** Parses argv (without node and script). Throws UpdatesError E_USAGE on anything it does not understand. */
export function parseCli(argv: string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'repo-url': { type: 'string' },
        'branch': { type: 'string' },
        'modules-path': { type: 'string' },
        'local-repo': { type: 'string' },
        'root': { type: 'string' },
        'check-only': { type: 'boolean' },
        'json': { type: 'boolean' },
        'wait': { type: 'boolean' },
        'module-timeout': { type: 'string' },
        'pool-size': { type: 'string' },
        'services': { type: 'string' },
        'log-level': { type: 'string' },
        'help': { type: 'boolean', short: 'h' },
        'version': { type: 'boolean', short: 'V' },
      },
    });
  } catch (err) {
    throw new UpdatesError('E_USAGE', { detail: (err as Error).message });
  }
  const { values: v, positionals } = parsed;
  if (positionals.length > 1) throw new UpdatesError('E_USAGE', { detail: `unexpected argument "${positionals[1]}"` });
  const first = positionals[0] ?? 'run';
  if (!(COMMANDS as readonly string[]).includes(first)) throw new UpdatesError('E_USAGE', { detail: `unknown command "${first}"` });
  let command = first as Command;
  if (v.help) command = 'help';
  else if (v.version) command = 'version';
  const services = v.services ?? 'systemctl';
  if (services !== 'systemctl' && services !== 'record') throw new UpdatesError('E_USAGE', { detail: `--services must be systemctl or record, got "${services}"` });
  const root = path.resolve(v.root ?? '/');
  const timeout = positiveNumber('--module-timeout', v['module-timeout']);
  const pool = positiveNumber('--pool-size', v['pool-size']);
  if (pool !== undefined && !Number.isInteger(pool)) throw new UpdatesError('E_USAGE', { detail: '--pool-size needs a whole number' });
  return Object.freeze({
    command,
    repoUrl: v['repo-url'] ?? DEFAULTS.repoUrl,
    branch: v.branch ?? DEFAULTS.branch,
    modulesPath: v['modules-path'] ?? DEFAULTS.modulesPath,
    ...(v['local-repo'] !== undefined ? { localRepo: v['local-repo'] } : {}),
    root,
    checkOnly: command === 'check' || v['check-only'] === true,
    json: v.json === true,
    wait: v.wait === true,
    ...(timeout !== undefined ? { moduleTimeoutSeconds: timeout } : {}),
    ...(pool !== undefined ? { poolSize: pool } : {}),
    services,
    ...(v['log-level'] !== undefined ? { logLevel: v['log-level'] } : {}),
  });
}
