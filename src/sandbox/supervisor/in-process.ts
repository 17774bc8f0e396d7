// In-process isolation: piscina workers in the orchestrator's own process (no uid drop, no process memory cap).
import { performance } from 'node:perf_hooks';
import { MessageChannel } from 'node:worker_threads';
import type { Logger } from 'pino';
import { messageOf, UpdatesError } from '../../core/errors.js';
import { codeFile, fromSource, packagePath } from '../../core/package-root.js';
import { outcomeOfReply, outcomeOfTaskRejection } from './outcome.js';
import type { PiscinaPools } from '../process/piscina-pools.js';
import { TaskDeadline } from '../process/task-deadline.js';
import { startRelay } from './relay.js';
import { DEFAULTS } from '../../core/defaults.js';
import type { ModuleJob, ModuleOutcome, WorkerTask } from '../wire/task.js';
import type { JobHandle, StartWhen } from './process-engine.js';

/**
 * The worker entry. Compiled, it is worker/worker.js. From source (tests, tsx) it is a small .mjs that
 * registers tsx inside the worker and imports worker.ts: passing `--import tsx` in execArgv instead would switch
 * off the Node permission model for the worker.
 */
export const WORKER_FILE = fromSource() ? packagePath('src', 'sandbox', 'worker', 'worker-dev.mjs') : codeFile('sandbox/worker/worker');

/**
 * Runs each job on a piscina worker of this process. Each job gets its own MessageChannel (its identity for the
 * broker) and an abort signal for its deadline; an abort or a heap overflow ends that worker and piscina starts
 * another. Off-heap memory (ArrayBuffers) is not bounded here: use process isolation where it matters.
 */
export class InProcessEngine {
  /** Made on the first job: piscina loads only when a module runs here (not for a run that ends before). */
  #pools: Promise<PiscinaPools> | undefined;

  constructor(
    private readonly size: number,
    private readonly logger: Logger,
  ) {}

  #poolsNow(): Promise<PiscinaPools> {
    this.#pools ??= import('../process/piscina-pools.js').then(
      ({ PiscinaPools }) =>
        new PiscinaPools(WORKER_FILE, this.size, (err) => {
          this.logger.error({ err }, 'sandbox: a worker failed outside any task');
          // Jobs still waiting for a worker fail now with that error, rather than each waiting out the start bound.
          for (const d of this.#inFlight) d.workerFailed(messageOf(err).slice(0, 2000));
        }),
    );
    return this.#pools;
  }

  /** Nothing to spawn: the workers are this process's own threads. */
  spawned(): Promise<void> {
    return Promise.resolve();
  }

  /** Starts the workers of the default memory class ahead of the first job. */
  warm(): void {
    void this.#poolsNow().then((pools) => pools.prestart(DEFAULTS.moduleMaxMemoryMb), () => undefined);
  }

  /** Deadlines of the jobs in flight. */
  readonly #inFlight = new Set<TaskDeadline>();

  /** Runs one job to its outcome; never rejects. */
  async run(job: ModuleJob): Promise<ModuleOutcome> {
    const { port1, port2 } = new MessageChannel();
    const deadline = new TaskDeadline(job.timeoutMs);
    this.#inFlight.add(deadline);
    let started = performance.now();
    const relay = startRelay(port1, job.broker, this.logger.child({ module: job.module }), job.module, () => {
      started = performance.now();
      deadline.started();
      job.onStarted?.();
    });
    const task: WorkerTask = { module: job.module, code: job.code, configuration: job.configuration, args: [...job.args], check: job.check ?? false, port: port2 };
    const elapsed = (): number => Math.round((performance.now() - started) * 10) / 10;
    let outcome: ModuleOutcome;
    try {
      const pools = await this.#poolsNow();
      await pools.run(task, job.maxMemoryMb, deadline.signal);
      // The reply comes in the worker's end notice, behind every request of the run on its port.
      outcome = outcomeOfReply(job, (await relay.ended).reply, elapsed());
    } catch (err) {
      outcome = outcomeOfTaskRejection(job, err, deadline, elapsed());
    } finally {
      deadline.clear();
      this.#inFlight.delete(deadline);
    }
    // However the task ended, the run is over: the broker refuses from now on, and the channel is gone; what it
    // was already doing finishes before the run is reported over.
    relay.close();
    await relay.drained();
    return outcome;
  }

  /**
   * Runs one job once `ready` resolves, or after `after` has its outcome (and `onlyAfterSuccess` has resolved):
   * in-process, nothing is sent ahead.
   */
  start(job: ModuleJob, { after, ready, onlyAfterSuccess }: StartWhen): JobHandle {
    const outcome = (async (): Promise<ModuleOutcome> => {
      try {
        await ready;
      } catch (err) {
        return { module: job.module, status: 'failed', durationMs: 0, error: { code: 'E_MODULE_FAILED', message: new UpdatesError('E_MODULE_FAILED', { module: job.module, detail: messageOf(err) }).message } };
      }
      await after?.outcome;
      await onlyAfterSuccess;
      return this.run(job);
    })();
    return { outcome };
  }

  /** Ends every worker; jobs still running settle as failed. */
  async destroy(): Promise<void> {
    const pools = await this.#pools;
    await pools?.destroy();
  }
}
