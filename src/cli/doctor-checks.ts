/**
 * The checks of `updates doctor`: is this machine ready for unattended runs? Each check says what it found
 * and, when something is wrong, the command or setting that fixes it. A warning is something that works but
 * should be looked at; a failure stops runs from working.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import satisfies from 'semver/functions/satisfies.js';
import { DEFAULTS } from '../core/defaults.js';
import { messageOf } from '../core/errors.js';
import { layoutOf } from '../orchestrator/layout.js';
import type { RunReport } from '../orchestrator/report.js';
import { createMemoryCgroup } from '../sandbox/supervisor/cgroup.js';
import { resolveSandboxUser } from '../sandbox/supervisor/sandbox-user.js';
import type { Settings } from './settings.js';

export interface Check {
  name: string;
  /** False only for a failure; a warning is ok but has `level: "warn"`. */
  ok: boolean;
  level: 'ok' | 'warn' | 'fail';
  detail: string;
  /** What to do about it (empty when nothing). */
  fix: string;
}

export interface DoctorInput {
  root: string;
  installRoot: string;
  /** The settings, or why they could not be read. */
  settings: Settings | { error: string; files: string[] };
  configFiles: string[];
  /** The engines range of package.json. */
  nodeRange: string;
  /** This package's folder (holds systemd/ and examples/), for the fixes. */
  packageDir: string;
}

const ok = (name: string, detail: string): Check => ({ name, ok: true, level: 'ok', detail, fix: '' });
const warn = (name: string, detail: string, fix: string): Check => ({ name, ok: true, level: 'warn', detail, fix });
const fail = (name: string, detail: string, fix: string): Check => ({ name, ok: false, level: 'fail', detail, fix });

function run(cmd: string, args: string[], timeout: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout, killSignal: 'SIGKILL', env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr: err !== null && err.killed ? `no answer within ${timeout / 1000} s` : stderr || (err?.message ?? '') });
    });
  });
}

const under = (root: string, p: string) => (root === '/' ? p : path.join(root, p));

/** Every check, in the order they are printed. */
export async function runChecks(d: DoctorInput): Promise<Check[]> {
  const s = 'error' in d.settings ? undefined : d.settings;
  return Promise.all([
    checkNode(d.nodeRange),
    checkGit(),
    checkRoot(),
    checkSandboxUser(s, d.packageDir),
    checkCgroup(),
    checkConfig(d, d.packageDir),
    checkRepository(s),
    checkSignatures(s),
    checkInstallRoot(d.installRoot),
    checkSchedule(d.root, d.packageDir),
    checkLastRun(d.installRoot),
  ]);
}

async function checkNode(range: string): Promise<Check> {
  const v = process.versions.node;
  return satisfies(v, range) ? ok('node', `Node ${v} (needs ${range})`) : fail('node', `Node ${v}, but ${range} is needed`, `install Node ${range}`);
}

async function checkGit(): Promise<Check> {
  const r = await run('git', ['--version'], 10_000);
  return r.code === 0 ? ok('git', r.stdout.trim()) : fail('git', `git does not run: ${r.stderr.trim()}`, 'install git (apt-get install git)');
}

async function checkRoot(): Promise<Check> {
  const uid = process.getuid?.();
  return uid === 0
    ? ok('root', 'running as root')
    : fail('root', `running as uid ${uid ?? '?'}; runs install files and change owners, so they run as root`, 'run updates (and this check) as root: sudo updates doctor');
}

async function checkSandboxUser(s: Settings | undefined, pkg: string): Promise<Check> {
  try {
    const user = await resolveSandboxUser(s?.sandboxUser);
    if (s?.sandboxUser === undefined && user.name !== DEFAULTS.sandboxUser) {
      return warn('sandbox-user', `"${DEFAULTS.sandboxUser}" does not exist; modules run as "${user.name}" (uid ${user.uid}), shared with other software`, `create it: cp ${pkg}/systemd/updates-orchestrator.sysusers.conf /etc/sysusers.d/updates-orchestrator.conf && systemd-sysusers; or useradd --system --no-create-home --shell /usr/sbin/nologin ${DEFAULTS.sandboxUser}`);
    }
    return ok('sandbox-user', `modules run as "${user.name}" (uid ${user.uid})`);
  } catch (err) {
    return fail('sandbox-user', messageOf(err), `create the user (useradd --system --no-create-home --shell /usr/sbin/nologin ${s?.sandboxUser ?? DEFAULTS.sandboxUser}) or fix "sandbox_user"`);
  }
}

async function checkCgroup(): Promise<Check> {
  try {
    const probe = await createMemoryCgroup(`updates-doctor-${process.pid}`, 256);
    await probe.remove();
    return ok('memory-cgroup', `a memory cgroup can be made under ${path.dirname(probe.dir)}`);
  } catch (err) {
    return warn('memory-cgroup', `no memory cgroup for the sandbox (${messageOf(err)}); runs go on, but off-heap memory of modules is capped only by RLIMIT_DATA (Node 20) or not at all`, 'run as root on a system with the memory controller (cgroup v2: memory in cgroup.controllers)');
  }
}

async function checkConfig(d: DoctorInput, pkg: string): Promise<Check> {
  if ('error' in d.settings) return fail('config', d.settings.error, `fix the file as the message says (${pkg}/examples/config.json lists every key)`);
  const present = d.configFiles.filter((f) => existsSync(f));
  return ok('config', present.length === 0 ? `no config file (${d.configFiles.join(', ')}); flags only` : `valid: ${present.join(', ')}${present.length > 1 ? ' (the second wins)' : ''}`);
}

async function checkRepository(s: Settings | undefined): Promise<Check> {
  if (s === undefined) return fail('repository', 'not checked: the configuration is invalid', 'fix the configuration first');
  if (s.repoUrl === undefined) return fail('repository', 'no repository is configured', `set "repo_url" in ${DEFAULTS.configFile} (or pass --repo-url)`);
  const r = await run('git', ['ls-remote', '--heads', '--', s.repoUrl, `refs/heads/${s.branch}`], DEFAULTS.doctorRemoteTimeoutMs);
  if (r.code !== 0) return fail('repository', `${s.repoUrl} is not reachable: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`, 'check the URL, the network, and the credentials git uses as root');
  if (r.stdout.trim() === '') return fail('repository', `${s.repoUrl} has no branch "${s.branch}"`, 'set "branch" to an existing branch');
  return ok('repository', `${s.repoUrl} branch ${s.branch} at ${r.stdout.slice(0, 12)}`);
}

async function checkSignatures(s: Settings | undefined): Promise<Check> {
  if (s?.requireSigned === true && s.allowedSigners !== undefined) return ok('signatures', `commits must be signed by a key in ${s.allowedSigners}`);
  return warn('signatures', 'commits are installed unsigned: whoever can push to the repository runs code as root here, and can replace the orchestrator itself', 'set "require_signed": true and "allowed_signers": "/etc/updates-orchestrator/allowed_signers" (see README, "Install on a server")');
}

async function checkInstallRoot(installRoot: string): Promise<Check> {
  let dir = installRoot;
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    const probe = await fsp.mkdtemp(path.join(dir, '.updates-doctor-'));
    await fsp.rm(probe, { recursive: true, force: true });
  } catch (err) {
    return fail('install-root', `${installRoot} is not writable (${messageOf(err)})`, 'run as root, or choose another --modules-path');
  }
  const fs = await fsp.statfs(dir);
  const freeMb = Math.floor((fs.bavail * fs.bsize) / 2 ** 20);
  const where = dir === installRoot ? installRoot : `${installRoot} (not yet made; ${dir} is writable)`;
  if (freeMb < DEFAULTS.doctorMinFreeMb) return warn('install-root', `${where}: only ${freeMb} MB free`, `free space: installs keep the previous version of each module and a clone of the repository (at least ${DEFAULTS.doctorMinFreeMb} MB advised)`);
  return ok('install-root', `${where}: writable, ${freeMb} MB free`);
}

async function checkSchedule(root: string, pkg: string): Promise<Check> {
  const cron = under(root, '/etc/cron.d/updates-orchestrator');
  if (!existsSync('/run/systemd/system')) {
    if (existsSync(cron)) return ok('timer', `systemd is not running; scheduled by ${cron}`);
    return warn('timer', 'systemd is not running and no cron entry is installed: nothing runs updates on its own', `install the cron example: cp ${pkg}/examples/updates-orchestrator.cron /etc/cron.d/updates-orchestrator`);
  }
  const r = await run('systemctl', ['is-enabled', 'updates-orchestrator.timer'], 10_000);
  const state = r.stdout.trim() || r.stderr.trim();
  if (r.code === 0 && state === 'enabled') return ok('timer', 'updates-orchestrator.timer is enabled');
  return fail('timer', `updates-orchestrator.timer is ${state || 'not installed'}`, `cp ${pkg}/systemd/updates-orchestrator.service ${pkg}/systemd/updates-orchestrator.timer /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now updates-orchestrator.timer`);
}

async function checkLastRun(installRoot: string): Promise<Check> {
  let r: RunReport;
  try {
    r = JSON.parse(await fsp.readFile(layoutOf(installRoot).lastReport, 'utf8')) as RunReport;
  } catch {
    return warn('last-run', 'no run yet', 'run it once: updates run');
  }
  const when = `${r.startedAt}, exit ${r.exitCode ?? '?'}`;
  if (r.exitCode === 0 || r.exitCode === 100) return ok('last-run', when);
  const first = r.errors[0]?.message;
  return fail('last-run', `${when}${first !== undefined ? `: ${first}` : ''}`, 'read the report: updates status, or state/last-run.json under the install root');
}
