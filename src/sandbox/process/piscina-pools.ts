// The piscina pools that run module tasks, one per memory limit; used in-process and inside the sandbox process.
import { Piscina } from 'piscina';
import type { WorkerTask } from '../wire/task.js';
import { DEFAULTS } from '../../core/defaults.js';

/** Idle workers stay this long, so one run's modules share warm workers and nothing lingers long after. */
const IDLE_TIMEOUT_MS = DEFAULTS.workerIdleTimeoutMs;
/** V8 stack of a worker; a module's runaway recursion ends with a RangeError at this depth. */
const STACK_SIZE_MB = 4;

/** The young generation counts apart from maxOldGenerationSizeMb; keep it a fraction of the limit. */
const youngGenerationMb = (maxMemoryMb: number): number => Math.min(32, Math.max(4, Math.floor(maxMemoryMb / 8)));

/**
 * One piscina per distinct `maxMemoryMb` (piscina's resourceLimits are per pool), made on first use.
 * This class only owns the pools: the caller bounds how many tasks run at once.
 */
export class PiscinaPools {
  readonly #pools = new Map<number, Piscina<WorkerTask, unknown>>();
  /** Tasks submitted and not yet settled, by memory class. */
  readonly #inFlight = new Map<number, number>();
  #destroyed = false;

  /**
   * @param workerFile the worker entry (see WORKER_FILE in pool.ts, or the bundled worker in the sandbox process)
   * @param maxThreads workers per memory class
   * @param onWorkerError a worker that died with no task in flight; unhandled, the event would end the process
   * @param onWorkerStart a worker of the `maxMemoryMb` class was created (`workers`: how many that class has now)
   */
  constructor(
    private readonly workerFile: string,
    private readonly maxThreads: number,
    private readonly onWorkerError: (err: unknown) => void,
    private readonly onWorkerStart: (maxMemoryMb: number, workers: number) => void = () => undefined,
  ) {}

  /** Runs one task; rejects as piscina does (abort, heap limit, worker exit). */
  async run(task: WorkerTask, maxMemoryMb: number, signal: AbortSignal): Promise<unknown> {
    // A job that was still waiting when destroy() ran fails here, inside the caller's error mapping.
    if (this.#destroyed) throw new Error('the sandbox pool was destroyed');
    const pool = this.#poolFor(maxMemoryMb);
    this.#inFlight.set(maxMemoryMb, (this.#inFlight.get(maxMemoryMb) ?? 0) + 1);
    try {
      return await pool.run(task, { transferList: [task.port], signal });
    } finally {
      this.#inFlight.set(maxMemoryMb, (this.#inFlight.get(maxMemoryMb) ?? 1) - 1);
    }
  }

  /** Whether every worker the `maxMemoryMb` class has (or is starting) has a task: one more would queue. */
  busy(maxMemoryMb: number): boolean {
    const pool = this.#pools.get(maxMemoryMb);
    return pool !== undefined && (this.#inFlight.get(maxMemoryMb) ?? 0) >= pool.threads.length;
  }

  /**
   * Starts one worker of the `maxMemoryMb` class now (it loads the worker code and locks its realm down), so the
   * first task finds it ready. One, not all: modules of distinct priorities run one at a time, and on a small
   * machine every extra worker starting at once delays the first. piscina starts the others when tasks queue
   * (modules of one priority running side by side), and the pool keeps at least this one until destroy().
   */
  prestart(maxMemoryMb: number): void {
    if (!this.#destroyed) this.#poolFor(maxMemoryMb, 1);
  }

  /** Ends every worker. Tasks still running reject. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }

  #poolFor(maxMemoryMb: number, minThreads = 0): Piscina<WorkerTask, unknown> {
    let pool = this.#pools.get(maxMemoryMb);
    if (pool !== undefined) return pool;
    pool = new Piscina<WorkerTask, unknown>({
      filename: this.workerFile,
      minThreads,
      maxThreads: this.maxThreads,
      idleTimeout: IDLE_TIMEOUT_MS,
      // An empty environment: no secret reaches a worker. No execArgv: any execArgv, even [], gives the worker
      // no permission model at all (ARCHITECTURE.md, "Facts measured").
      env: {},
      resourceLimits: {
        maxOldGenerationSizeMb: maxMemoryMb,
        maxYoungGenerationSizeMb: youngGenerationMb(maxMemoryMb),
        stackSizeMb: STACK_SIZE_MB,
      },
    });
    pool.on('error', this.onWorkerError);
    pool.on('workerCreate', () => this.onWorkerStart(maxMemoryMb, pool.threads.length));
    this.#pools.set(maxMemoryMb, pool);
    return pool;
  }
}
