// The sandbox's public face: runs module jobs, in a sandbox process (default as root) or in-process, at most `size` at once.
import type { Logger } from 'pino';
import { DEFAULTS } from '../../core/defaults.js';
import { ProcessEngine } from './process-engine.js';
import type { JobHandle, MemoryCap, StartWhen } from './process-engine.js';
import { InProcessEngine } from './in-process.js';
import type { ModuleJob, ModuleOutcome } from '../wire/task.js';

export type { JobBroker, ModuleJob, ModuleOutcome, ModuleStatus } from '../wire/task.js';
export type { JobHandle, MemoryCap } from './process-engine.js';
export { WORKER_FILE } from './in-process.js';

/**
 * Where the workers live. 'process': in a child process of an unprivileged user, its own process group, under the
 * Node permission model and a memory cap (layer 4). 'in-process': in the orchestrator's own process (layers 1-3).
 */
export type Isolation = 'process' | 'in-process';

/** The sandbox process's memory cap when none is configured, MB: never below this. */
export const SANDBOX_MEMORY_FLOOR_MB = DEFAULTS.sandboxMemoryFloorMb;
/** Room over the workers' heap limits for V8, Node and piscina themselves in the sandbox process, MB. */
const SANDBOX_MEMORY_OVERHEAD_MB = 512;

export interface SandboxPoolOptions {
  /** Modules that may run at once (default DEFAULTS.poolSize). */
  size?: number;
  logger: Logger;
  /**
   * Default 'process' when running as root (it needs root to switch user), else 'in-process' with a warning:
   * without root there is no other user to drop to, and a process of the same user would add little.
   */
  isolation?: Isolation;
  /** The sandbox process's user (process isolation); default `updates-sandbox` if it exists, else `nobody`. */
  user?: string;
  /**
   * The sandbox process's memory cap, MB: its cgroup limit and RLIMIT_DATA (process isolation). Default: the
   * larger of SANDBOX_MEMORY_FLOOR_MB and `size` default-sized module heaps plus SANDBOX_MEMORY_OVERHEAD_MB.
   */
  memoryLimitMb?: number;
  /** Which memory caps to apply where the system allows (default both: RLIMIT_DATA fails an allocation, the
   * cgroup kills the process if something still grows past it). */
  memoryCaps?: readonly MemoryCap[];
  /** Test-only: the module worker's source entry bundled into the sandbox process (a probe of its limits). */
  workerEntry?: string;
}

/** How jobs run, whichever the isolation. */
interface Engine {
  warm(): void;
  spawned(): Promise<void>;
  run(job: ModuleJob): Promise<ModuleOutcome>;
  start(job: ModuleJob, when: StartWhen): JobHandle;
  destroy(): Promise<void>;
}

/** The isolation a pool uses when none is asked for: see SandboxPoolOptions.isolation. */
export function defaultIsolation(): Isolation {
  return process.getuid?.() === 0 ? 'process' : 'in-process';
}

/**
 * Runs enabled modules' main() in sandbox workers, at most `size` at once. Each job gets its own channel (its
 * identity for the broker) and its own deadline; see InProcessEngine and ProcessEngine for where they run.
 */
export class SandboxPool {
  readonly size: number;
  readonly isolation: Isolation;
  readonly #engine: Engine;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #destroyed = false;

  constructor(options: SandboxPoolOptions) {
    this.size = Math.max(1, Math.floor(options.size ?? DEFAULTS.poolSize));
    this.isolation = options.isolation ?? defaultIsolation();
    if (options.isolation === undefined && this.isolation === 'in-process') {
      options.logger.warn('sandbox: not running as root, so modules run in-process: no separate user, process group or memory cap (sandbox layer 4 is off)');
    }
    this.#engine =
      this.isolation === 'process'
        ? new ProcessEngine({
            size: this.size,
            logger: options.logger,
            user: options.user,
            memoryLimitMb: options.memoryLimitMb ?? Math.max(SANDBOX_MEMORY_FLOOR_MB, this.size * DEFAULTS.moduleMaxMemoryMb + SANDBOX_MEMORY_OVERHEAD_MB),
            memoryCaps: options.memoryCaps ?? ['cgroup', 'rlimit'],
            workerEntry: options.workerEntry,
          })
        : new InProcessEngine(this.size, options.logger);
  }

  /**
   * Starts the sandbox (process and workers) now, off the critical path, so the first job does not wait for it.
   * Never throws: a start that fails is retried, and reported, by the first job.
   */
  warm(): void {
    if (!this.#destroyed) this.#engine.warm();
  }

  /**
   * Resolves once the sandbox process that warm() starts exists (or its start failed; never rejects). Its own
   * start then runs in parallel with whatever the caller does next, even work that keeps this thread busy.
   */
  spawned(): Promise<void> {
    return this.#engine.spawned();
  }

  /** Runs one job to its outcome. Never rejects for anything the module does; safe to call concurrently. */
  async run(job: ModuleJob): Promise<ModuleOutcome> {
    if (this.#destroyed) throw new Error('SandboxPool.run() after destroy()');
    return this.start(job).outcome;
  }

  /**
   * Starts one job, once a slot is free; or, with `after` (a job this pool started), strictly after that one: it
   * never starts before that one has settled and every SDK request of that one has been answered. Where it can,
   * the sandbox process gets such a job ahead and starts it the moment `after` settles there, off main's round
   * trip. A job started after another takes no slot of its own: it never runs beside it, so callers chain only
   * jobs that run one at a time. With `onlyAfterSuccess`, the job follows `after` that way only if `after`
   * succeeds; after any other outcome it starts once `onlyAfterSuccess` resolves. Never rejects.
   */
  start(job: ModuleJob, after?: JobHandle, onlyAfterSuccess?: Promise<unknown>): JobHandle {
    if (this.#destroyed) return { outcome: Promise.resolve(destroyedOutcome(job)) };
    if (after !== undefined) return this.#engine.start(job, { after, onlyAfterSuccess });
    // A job that was still waiting for a slot when destroy() ran fails instead of starting.
    const ready = this.#acquire().then(() => {
      if (this.#destroyed) throw new Error('the sandbox pool was destroyed');
    });
    const handle = this.#engine.start(job, { ready });
    void handle.outcome.finally(() => this.#release());
    return handle;
  }

  /** Ends every worker (and the sandbox process with its whole group). Jobs still running settle as failed. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    await this.#engine.destroy();
  }

  async #acquire(): Promise<void> {
    if (this.#running < this.size) {
      this.#running++;
      return;
    }
    // The slot is handed over by #release, so #running stays counted for us.
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#running--;
  }
}

function destroyedOutcome(job: ModuleJob): ModuleOutcome {
  return { module: job.module, status: 'failed', durationMs: 0, error: { code: 'E_MODULE_FAILED', message: `module "${job.module}" failed: the sandbox pool was destroyed` } };
}
