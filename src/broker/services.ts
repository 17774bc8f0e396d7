// Service backends: systemctl on a real host, or a recorder for the demo and tests on machines without systemd.
import { promises as fsp } from 'node:fs';
import { UpdatesError } from '../core/errors.js';
import type { ServiceStatus } from '../sdk/protocol.js';
import { runCommand } from './exec.js';
import { DEFAULTS } from '../core/defaults.js';

/** What the broker asks of the service manager; names reaching it are already checked against the manifest. */
export interface ServiceBackend {
  restart(name: string): Promise<ServiceStatus>;
  reload(name: string): Promise<ServiceStatus>;
  status(name: string): Promise<ServiceStatus>;
}

const SYSTEMCTL_TIMEOUT_MS = DEFAULTS.systemctlTimeoutMs;
const SYSTEMCTL_OUTPUT_BYTES = 64 * 1024;

async function systemctl(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const res = await runCommand(['systemctl', ...args], { timeoutMs: SYSTEMCTL_TIMEOUT_MS, maxOutputBytes: SYSTEMCTL_OUTPUT_BYTES });
  if (res.timedOut) throw new UpdatesError('E_IO', { method: `systemctl ${args[0] ?? ''}`, detail: 'systemctl did not answer in time' });
  return res;
}

/** The unit's state from `systemctl is-active` (which exits non-zero for inactive units: that is an answer, not an error). */
async function isActive(name: string): Promise<ServiceStatus> {
  const res = await systemctl(['is-active', '--', name]);
  const state = res.stdout.trim().split('\n')[0] ?? 'unknown';
  return { name, active: state === 'active', state: state === '' ? 'unknown' : state };
}

/** Runs `systemctl <verb> -- <name>` (no shell), then reports the unit's state. */
async function act(verb: 'restart' | 'reload', name: string): Promise<ServiceStatus> {
  const res = await systemctl([verb, '--', name]);
  if (res.exitCode !== 0) {
    const why = res.stderr.trim().split('\n')[0] ?? '';
    throw new UpdatesError('E_IO', { method: `services.${verb}`, detail: `systemctl ${verb} ${name} exited ${res.exitCode}${why === '' ? '' : `: ${why}`}` });
  }
  return isActive(name);
}

/** The real backend: systemctl restart|reload|is-active. */
export function systemctlBackend(): ServiceBackend {
  return { restart: (name) => act('restart', name), reload: (name) => act('reload', name), status: isActive };
}

/**
 * A backend that appends each request to `file` as a JSON line and reports the unit active with state
 * "recorded". For the demo and tests on machines without systemd; chosen by the CLI (--services record).
 */
export function recordingBackend(file: string): ServiceBackend {
  const record = async (action: string, name: string): Promise<ServiceStatus> => {
    await fsp.appendFile(file, `${JSON.stringify({ at: new Date().toISOString(), action, name })}\n`);
    return { name, active: true, state: 'recorded' };
  };
  return { restart: (n) => record('restart', n), reload: (n) => record('reload', n), status: (n) => record('status', n) };
}
