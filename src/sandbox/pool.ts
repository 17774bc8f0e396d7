// The host side of the sandbox: runs module jobs on piscina workers, one pool per memory limit, and maps outcomes.
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { DEFAULTS } from '../orchestrator/defaults.js';
import { outcomeOfRejection, outcomeOfReply } from './outcome.js';
import { startRelay } from './relay.js';
import type { ModuleJob, ModuleOutcome, WorkerTask } from './types.js';

export type { JobBroker, ModuleJob, ModuleOutcome, ModuleStatus } from './types.js';

/**
 * The worker entry. Compiled, it is worker.js beside this file. From source (tests, tsx) it is a small .mjs that
 * registers tsx inside the worker and imports worker.ts: passing `--import tsx` in execArgv instead would switch
 * off the Node permission model for the worker.
 */
export const WORKER_FILE = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? './worker-dev.mjs' : './worker.js', import.meta.url),
);

/** Idle workers stay this long, so one run's modules share warm workers and nothing lingers long after. */
const IDLE_TIMEOUT_MS = 30_000;
/** V8 stack of a worker; a module's runaway recursion ends with a RangeError at this depth. */
const STACK_SIZE_MB = 4;

/** The young generation counts apart from maxOldGenerationSizeMb; keep it a fraction of the limit. */
const youngGenerationMb = (maxMemoryMb: number): number => Math.min(32, Math.max(4, Math.floor(maxMemoryMb / 8)));

export interface SandboxPoolOptions {
  /** Modules that may run at once (default DEFAULTS.poolSize). */
  size?: number;
  logger: Logger;
}

/**
 * Runs enabled modules' main() in sandbox workers.
 *
 * piscina's resourceLimits are per pool, so there is one piscina per distinct `maxMemoryMb`, made on first use;
 * across them at most `size` jobs run at once. Each job gets its own MessageChannel (its identity for the broker)
 * and an abort signal for its deadline; an abort or a heap overflow ends that worker and piscina starts another.
 */
export class SandboxPool {
  readonly size: number;
  readonly #logger: Logger;
  readonly #pools = new Map<number, Piscina<WorkerTask, unknown>>();
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  #destroyed = false;

  constructor(options: SandboxPoolOptions) {
    this.size = Math.max(1, Math.floor(options.size ?? DEFAULTS.poolSize));
    this.#logger = options.logger;
  }

  /** Runs one job to its outcome. Never rejects for anything the module does; safe to call concurrently. */
  async run(job: ModuleJob): Promise<ModuleOutcome> {
    if (this.#destroyed) throw new Error('SandboxPool.run() after destroy()');
    await this.#acquire();
    try {
      return await this.#runNow(job);
    } finally {
      this.#release();
    }
  }

  /** Ends every worker. Jobs still running settle as failed. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }

  async #runNow(job: ModuleJob): Promise<ModuleOutcome> {
    const { port1, port2 } = new MessageChannel();
    const relay = startRelay(port1, job.broker, this.#logger.child({ module: job.module }));
    const signal = AbortSignal.timeout(job.timeoutMs);
    const task: WorkerTask = {
      module: job.module,
      code: job.code,
      configuration: job.configuration,
      args: [...job.args],
      port: port2,
    };
    const started = performance.now();
    const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
    try {
      const reply = await this.#poolFor(job.maxMemoryMb).run(task, { transferList: [port2], signal });
      return outcomeOfReply(job, reply, elapsed());
    } catch (err) {
      return outcomeOfRejection(job, err, signal.aborted, elapsed());
    } finally {
      // However the task ended, the run is over: the broker refuses from now on, and the channel is gone.
      relay.close();
    }
  }

  #poolFor(maxMemoryMb: number): Piscina<WorkerTask, unknown> {
    // A job that was still waiting for a slot when destroy() ran fails here, inside run()'s error mapping.
    if (this.#destroyed) throw new Error('the sandbox pool was destroyed');
    let pool = this.#pools.get(maxMemoryMb);
    if (pool !== undefined) return pool;
    pool = new Piscina<WorkerTask, unknown>({
      filename: WORKER_FILE,
      minThreads: 0,
      maxThreads: this.size,
      idleTimeout: IDLE_TIMEOUT_MS,
      // An empty environment: no secret of the orchestrator's reaches a worker. No execArgv (see WORKER_FILE).
      env: {},
      resourceLimits: {
        maxOldGenerationSizeMb: maxMemoryMb,
        maxYoungGenerationSizeMb: youngGenerationMb(maxMemoryMb),
        stackSizeMb: STACK_SIZE_MB,
      },
    });
    // A worker that dies with no task in flight is reported here; unhandled, the event would end the host.
    pool.on('error', (err: unknown) => this.#logger.error({ err }, 'sandbox: a worker failed outside any task'));
    this.#pools.set(maxMemoryMb, pool);
    return pool;
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
