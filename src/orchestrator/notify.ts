/**
 * Notifications: after a run (not a check), an operator's command gets the run's JSON report on stdin, when the run failed
 * (`failure`, the default), also when it changed something (`change`), or after every run (`always`).
 * The command runs without a shell, in its own process group, bounded in time; its own failure is logged and
 * never changes the run's outcome or exit code.
 */
import { spawn } from 'node:child_process';
import { DEFAULTS } from '../core/defaults.js';
import { messageOf } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { killGroup } from '../core/process-group.js';
import { formatRecap, recapOf } from './recap.js';
import type { RunReport } from './report.js';

export const NOTIFY_ON = ['failure', 'change', 'always'] as const;
export type NotifyOn = (typeof NOTIFY_ON)[number];

export interface NotifyOptions { argv: readonly string[]; on: NotifyOn; timeoutMs?: number }

const CHANGED_UPDATES = new Set(['installed', 'updated', 'repaired', 'rolled-back']);

/** Whether a run with this report is one to notify about. */
export function shouldNotify(on: NotifyOn, r: RunReport): boolean {
  if (r.mode !== 'run') return false;
  const failed = r.exitCode !== 0 && r.exitCode !== 100;
  if (on === 'always' || failed) return true;
  if (on === 'failure') return false;
  return r.updates.some((u) => CHANGED_UPDATES.has(u.status)) || r.modules.some((m) => m.changed === true) || r.orchestrator.status === 'updated';
}

export interface NotifyOutcome { ran: boolean; exitCode?: number | null; signal?: string | null; timedOut?: boolean; error?: string }

/** Runs the notify command when the report calls for it. Never throws. */
export async function notify(o: NotifyOptions, report: RunReport, logger: Logger): Promise<NotifyOutcome> {
  if (!shouldNotify(o.on, report)) return { ran: false };
  const [cmd, ...args] = o.argv;
  if (cmd === undefined) return { ran: false };
  const log = logger.child({ zone: 'notify' });
  const outcome = await new Promise<NotifyOutcome>((resolve) => {
    let child;
    try {
      child = spawn(cmd, args, {
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, UPDATES_EXIT_CODE: String(report.exitCode ?? ''), UPDATES_RECAP: formatRecap(recapOf(report)), UPDATES_RUN_ID: report.runId },
      });
    } catch (err) {
      resolve({ ran: true, error: messageOf(err) });
      return;
    }
    const out = { stdout: '', stderr: '' };
    const keep = (k: 'stdout' | 'stderr') => (d: Buffer) => {
      if (out[k].length < DEFAULTS.notifyMaxOutputBytes) out[k] = (out[k] + d.toString('utf8')).slice(0, DEFAULTS.notifyMaxOutputBytes);
    };
    child.stdout.on('data', keep('stdout'));
    child.stderr.on('data', keep('stderr'));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, o.timeoutMs ?? DEFAULTS.notifyTimeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ ran: true, error: messageOf(err) });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (out.stdout !== '' || out.stderr !== '') log.info({ stdout: out.stdout.trimEnd(), stderr: out.stderr.trimEnd() }, 'notify command output');
      resolve({ ran: true, exitCode: code, signal, timedOut });
    });
    // A command that does not read its stdin must not fail the write.
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${JSON.stringify(report, null, 2)}\n`);
  });
  const what = `notify command ${JSON.stringify(o.argv)}`;
  if (outcome.error !== undefined) log.error({ argv: o.argv }, `${what} could not start: ${outcome.error}; check notify_command (the run's outcome is unchanged)`);
  else if (outcome.timedOut === true) log.error({ argv: o.argv }, `${what} did not finish within ${(o.timeoutMs ?? DEFAULTS.notifyTimeoutMs) / 1000} s and was stopped (the run's outcome is unchanged)`);
  else if (outcome.exitCode !== 0) log.error({ argv: o.argv, exitCode: outcome.exitCode, signal: outcome.signal }, `${what} failed with ${outcome.signal ?? `exit code ${outcome.exitCode}`} (the run's outcome is unchanged)`);
  else log.info({ argv: o.argv }, `${what} notified`);
  return outcome;
}

/** The run's notify step (RunConfig.notify) for these options. */
export function notifier(o: NotifyOptions): (report: RunReport, logger: Logger) => Promise<void> {
  return async (report, logger) => {
    await notify(o, report, logger);
  };
}
