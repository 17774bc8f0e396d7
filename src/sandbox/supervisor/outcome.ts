// Maps how a piscina task settled (a worker reply, an abort, an out-of-memory, an exit) to a module outcome.
import { DEFAULTS } from '../../core/defaults.js';
import { messageOf, UpdatesError } from '../../core/errors.js';
import type { ErrorCode } from '../../core/errors.js';
import type { ModuleJob, ModuleOutcome, ModuleStatus } from '../wire/task.js';
import { workerReplySchema } from '../wire/worker-reply.js';
import { errnoCode } from '../../core/errno.js';

/** piscina rejects a task whose worker ended with this message (e.g. process.exit inside the worker). */
const WORKER_EXIT_RE = /^worker exited with code/;

function outcome(
  job: ModuleJob,
  status: ModuleStatus,
  durationMs: number,
  code: ErrorCode,
  details: Record<string, string>,
): ModuleOutcome {
  const error = { code, message: new UpdatesError(code, { module: job.module, ...details }).message };
  return { module: job.module, status, error, durationMs };
}

/** The outcome of a task the worker answered. The reply is validated again here: it comes from where module code ran. */
export function outcomeOfReply(job: ModuleJob, reply: unknown, durationMs: number): ModuleOutcome {
  const parsed = workerReplySchema.safeParse(reply);
  if (!parsed.success) return outcome(job, 'failed', durationMs, 'E_MODULE_RESULT', { detail: 'a reply the sandbox could not read' });
  const data = parsed.data;
  if (!data.ok) return { module: job.module, status: 'failed', error: data.error, durationMs };
  if (data.result.success) return { module: job.module, status: 'ok', result: data.result, durationMs };
  const detail = data.result.message ?? 'main() returned success: false';
  return { ...outcome(job, 'failed', durationMs, 'E_MODULE_FAILED', { detail }), result: data.result };
}

/** The outcome of a task that piscina rejected: the deadline, the heap limit, an exit, or anything else. */
export function outcomeOfRejection(job: ModuleJob, err: unknown, timedOut: boolean, durationMs: number): ModuleOutcome {
  if (timedOut) {
    return outcome(job, 'timeout', durationMs, 'E_MODULE_TIMEOUT', { seconds: String(Math.round(job.timeoutMs / 100) / 10) });
  }
  if (errnoCode(err) === 'ERR_WORKER_OUT_OF_MEMORY') {
    return outcome(job, 'memory', durationMs, 'E_MODULE_MEMORY', { limitMb: String(job.maxMemoryMb) });
  }
  const message = messageOf(err);
  if (WORKER_EXIT_RE.test(message)) return outcome(job, 'exited', durationMs, 'E_MODULE_EXITED', { detail: message });
  return outcome(job, 'failed', durationMs, 'E_MODULE_FAILED', { detail: message });
}

/**
 * The outcome of a task aborted or rejected under a TaskDeadline: a worker that never started the task is a
 * failure of the sandbox, not a module timeout.
 */
export function outcomeOfTaskRejection(
  job: ModuleJob,
  err: unknown,
  deadline: { reason: 'start' | 'worker' | 'deadline' | undefined; workerError?: string | undefined },
  durationMs: number,
): ModuleOutcome {
  if (deadline.reason === 'worker') {
    return outcome(job, 'failed', durationMs, 'E_MODULE_FAILED', { detail: `a sandbox worker failed before it could start the module: ${deadline.workerError ?? 'unknown error'}` });
  }
  if (deadline.reason === 'start') {
    const seconds = Math.round(DEFAULTS.workerStartTimeoutMs / 1000);
    return outcome(job, 'failed', durationMs, 'E_MODULE_FAILED', { detail: `no sandbox worker started it within ${seconds} s (is the machine overloaded?)` });
  }
  return outcomeOfRejection(job, err, deadline.reason === 'deadline', durationMs);
}

/** Why the sandbox process stopped answering for a job (process isolation only). */
export interface HostLoss {
  /** The kernel's OOM killer ran in the process's memory cgroup. */
  oomKilled: boolean;
  /** The process's memory cap, MB, for the message. */
  capMb: number;
  /** What happened, e.g. "the sandbox process ended (signal SIGKILL)". */
  detail: string;
}

/**
 * The outcome of a job whose sandbox process died or was stopped under it. Killed by its memory cgroup, it is
 * "memory" (off-heap growth, e.g. ArrayBuffers, which V8's heap limit does not count); otherwise "failed".
 * Every job running in that process gets it: the process cannot tell which module grew.
 */
export function outcomeOfHostLoss(job: ModuleJob, loss: HostLoss, durationMs: number): ModuleOutcome {
  if (loss.oomKilled) return outcome(job, 'memory', durationMs, 'E_SANDBOX_MEMORY', { limitMb: String(loss.capMb) });
  return outcome(job, 'failed', durationMs, 'E_SANDBOX_LOST', { detail: loss.detail });
}
