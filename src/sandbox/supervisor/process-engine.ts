// Process isolation: runs jobs in a sandbox process of an unprivileged user, restarting it when it dies.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { UpdatesError } from '../../core/errors.js';
import type { ModuleJob, ModuleOutcome } from '../wire/task.js';
import { bundleHost } from './bundle-host.js';
import type { HostBundle } from './bundle-host.js';
import { createMemoryCgroup } from './cgroup.js';
import type { MemoryCgroup } from './cgroup.js';
import { HostProcess } from './host-process.js';
import { resolveSandboxUser } from './sandbox-user.js';
import type { SandboxUser } from './sandbox-user.js';
import { findPrlimit, rlimitDataUsable, spawnHost } from './spawn-host.js';
import { removeLeftovers } from './leftovers.js';
import { DEFAULTS } from '../../core/defaults.js';

/** How long past a job's deadline main waits for the process to stop it before it kills the process. */
const HOST_GRACE_MS = DEFAULTS.sandboxGraceMs;

/** Options of process isolation (see SandboxPoolOptions). */
export interface ProcessEngineOptions {
  size: number;
  logger: Logger;
  /** The sandbox user's name; default updates-sandbox if it exists, else nobody. */
  user: string | undefined;
  /** The process's memory cap (cgroup and RLIMIT_DATA), MB. */
  memoryLimitMb: number;
  /** Which caps to apply where the system allows them (both by default; tests look at one at a time). */
  memoryCaps: readonly MemoryCap[];
  /** The module worker's source entry; tests substitute a probe. */
  workerEntry: string | undefined;
}

/** A started job: its outcome, to wait for or to start another job after (SandboxPool.start). */
export interface JobHandle {
  readonly outcome: Promise<ModuleOutcome>;
}

/** When a job may start: after `after` (see SandboxPool.start), or once `ready` resolves (rejected: never). */
export interface StartWhen {
  after?: JobHandle;
  ready?: Promise<void>;
  /**
   * With `after`: the job follows `after` at once only if `after` succeeds; otherwise it starts once this
   * resolves (the caller's handling of that outcome, say a rollback and a rerun, is done by then).
   */
  onlyAfterSuccess?: Promise<unknown> | undefined;
}

/** Where a job of this engine went: its process and its id there, once sent. */
interface Link {
  host: HostProcess;
  id: number;
}

interface EngineHandle extends JobHandle {
  outcome: Promise<ModuleOutcome>;
  /** Resolves once the job is sent (undefined: it was not sent, or not where a follower can follow it). */
  sent: Promise<Link | undefined>;
}

function failedToStart(job: ModuleJob, err: unknown): ModuleOutcome {
  const detail = err instanceof Error ? err.message : String(err);
  return { module: job.module, status: 'failed', durationMs: 0, error: { code: 'E_MODULE_FAILED', message: new UpdatesError('E_MODULE_FAILED', { module: job.module, detail }).message } };
}

/** A way to cap the sandbox process's memory: its own memory cgroup, or RLIMIT_DATA set through prlimit. */
export type MemoryCap = 'cgroup' | 'rlimit';

/**
 * Starts the sandbox process on the first job and keeps it for the next; a process that died (or was killed for
 * missing a deadline) is replaced on the next job, so one bad module costs the jobs running beside it, not the run.
 */
export class ProcessEngine {
  #bundle: Promise<HostBundle> | undefined;
  #user: Promise<SandboxUser> | undefined;
  #host: Promise<HostProcess> | undefined;
  #started = 0;
  #spawned: Promise<void> | undefined;
  #onSpawned: (() => void) | undefined;
  #warnedNoCap = false;
  #destroyed = false;
  /** The handles this engine made, with where their jobs went; weak, so a handle lives only as long as its holder. */
  readonly #links = new WeakMap<JobHandle, EngineHandle>();

  constructor(private readonly options: ProcessEngineOptions) {}

  /** Runs one job; never rejects. A process that cannot start fails the job, never runs it with less isolation. */
  run(job: ModuleJob): Promise<ModuleOutcome> {
    return this.start(job, {}).outcome;
  }

  /**
   * Starts one job once `ready` resolves, or after `after` when given: a job of this engine still in flight in the
   * live process is followed there (the process starts this one the moment that one settles, see RunMessage.after);
   * any other waits for `after`'s outcome first. A chained job the process never started (it was cancelled because the one before did
   * not end normally, or the process ended) runs again once `after`'s outcome is in. Never rejects.
   */
  start(job: ModuleJob, { after, ready, onlyAfterSuccess }: StartWhen): JobHandle {
    let sent: (link: Link | undefined) => void = () => undefined;
    const handle: EngineHandle = { outcome: Promise.resolve(undefined as unknown as ModuleOutcome), sent: new Promise<Link | undefined>((resolve) => (sent = resolve)) };
    handle.outcome = (async () => {
      try {
        await ready;
      } catch (err) {
        sent(undefined);
        return failedToStart(job, err);
      }
      const link = after !== undefined ? await this.#links.get(after)?.sent : undefined;
      let host: HostProcess;
      try {
        host = await this.#current();
      } catch (err) {
        sent(undefined);
        return failedToStart(job, err);
      }
      if (after !== undefined && (link === undefined || link.host !== host || !host.canFollow(link.id))) {
        sent(undefined);
        await after.outcome;
        await onlyAfterSuccess;
        return this.#runAlone(job);
      }
      const submitted = host.submit(job, link?.id, onlyAfterSuccess !== undefined);
      sent({ host, id: submitted.id });
      const result = await submitted.result;
      if (!result.unstarted || after === undefined) return result.outcome;
      await after.outcome;
      await onlyAfterSuccess;
      return this.#runAlone(job);
    })();
    this.#links.set(handle, handle);
    return handle;
  }

  async #runAlone(job: ModuleJob): Promise<ModuleOutcome> {
    try {
      return await (await this.#current()).run(job);
    } catch (err) {
      return failedToStart(job, err);
    }
  }

  /**
   * Starts the sandbox process (and its workers) now, ahead of the first job. A start that fails is not
   * reported here: the first job starts it again and fails with the reason.
   */
  warm(): void {
    if (this.#destroyed || this.#host !== undefined) return;
    let spawned!: () => void;
    this.#spawned = new Promise<void>((resolve) => (spawned = resolve));
    this.#onSpawned = spawned;
    this.#host = this.#start();
    // A start that fails before the spawn settles spawned() too.
    this.#host.then(spawned, spawned);
  }

  /**
   * Resolves once the process warm() starts has been spawned (or its start failed): the rest of its start, Node's
   * own and its workers', then goes on in that process, whatever this one does meanwhile.
   */
  spawned(): Promise<void> {
    return this.#spawned ?? Promise.resolve();
  }

  /** Kills the process group (jobs in it fail), waits for it to go, and removes the bundle folder. */
  async destroy(): Promise<void> {
    this.#destroyed = true;
    const host = await this.#host?.catch(() => undefined);
    this.#host = undefined;
    if (host !== undefined) {
      host.kill('the sandbox pool was destroyed');
      await host.closed;
    }
    const bundle = await this.#bundle?.catch(() => undefined);
    await bundle?.remove();
  }

  /** The live process, started (once, for concurrent callers) when there is none. */
  async #current(): Promise<HostProcess> {
    const previous = this.#host;
    const host = await previous?.catch(() => undefined);
    if (host?.alive === true) return host;
    if (this.#destroyed) throw new Error('the sandbox pool was destroyed');
    // Whoever finds the process gone first starts the next one; the others wait for that same start.
    if (this.#host === previous) this.#host = this.#start();
    return this.#host as Promise<HostProcess>;
  }

  async #start(): Promise<HostProcess> {
    const began = performance.now();
    const { size, logger, memoryLimitMb } = this.options;
    // Beside the steps below, not before them: what a crashed run left carries its own (dead) pid, never ours.
    const leftovers = this.#bundle === undefined ? this.#removeLeftovers() : undefined;
    // Independent steps, taken together: each is mostly waiting on the file system. A cgroup made for a start that
    // fails in another step is removed again (#cgroup itself never rejects: without one the process runs uncapped).
    const [bundleR, userR, cgroupR] = await Promise.allSettled([
      (this.#bundle ??= bundleHost(this.options.workerEntry)),
      (this.#user ??= resolveSandboxUser(this.options.user)),
      this.options.memoryCaps.includes('cgroup') ? this.#cgroup() : Promise.resolve(undefined),
    ]);
    const cgroup = cgroupR.status === 'fulfilled' ? cgroupR.value : undefined;
    if (bundleR.status === 'rejected' || userR.status === 'rejected') {
      await leftovers;
      await cgroup?.remove().catch(() => undefined);
      throw bundleR.status === 'rejected' ? bundleR.reason : (userR as PromiseRejectedResult).reason;
    }
    const bundle = bundleR.value;
    const user = userR.value;
    const dataLimitMb = this.options.memoryCaps.includes('rlimit') && rlimitDataUsable() && findPrlimit() !== undefined ? memoryLimitMb : undefined;
    const child = spawnHost({ bundle, user, size, dataLimitMb });
    this.#onSpawned?.();
    this.#onSpawned = undefined;
    // Listening from the spawn on: the process's first message (ready) must not come before anyone hears it.
    const host = new HostProcess(child, cgroup, { graceMs: HOST_GRACE_MS, capMb: memoryLimitMb }, logger);
    const ready = host.ready(DEFAULTS.sandboxStartTimeoutMs);
    ready.catch(() => undefined);
    try {
      if (cgroup !== undefined && child.pid !== undefined) await cgroup.attach(child.pid);
    } catch (err) {
      logger.warn({ err }, 'sandbox: could not put the sandbox process in its memory cgroup; it runs without that cap');
    }
    await leftovers;
    try {
      await ready;
    } catch (err) {
      // A spawn that failed outright never emits 'close', which is where the cgroup is removed otherwise.
      await cgroup?.remove().catch(() => undefined);
      throw err;
    }
    const ms = Math.round(performance.now() - began);
    logger.debug({ pid: child.pid, user: user.name, cgroup: cgroup?.dir, dataLimitMb, ms }, `sandbox process ${++this.#started} started`);
    return host;
  }

  /** removeLeftovers(), logged; never rejects. */
  async #removeLeftovers(): Promise<void> {
    try {
      const removed = await removeLeftovers();
      if (removed.length > 0) this.options.logger.info({ removed }, 'sandbox: removed what the sandbox of a crashed run left behind');
    } catch (err) {
      this.options.logger.warn({ err }, 'sandbox: could not remove what the sandbox of a crashed run left behind');
    }
  }

  /**
   * A fresh memory cgroup per process (its OOM count is then that process's), named uniquely since several pools
   * may live in one orchestrator; undefined where none can be made.
   */
  async #cgroup(): Promise<MemoryCgroup | undefined> {
    try {
      return await createMemoryCgroup(`updates-sandbox-${process.pid}-${randomBytes(6).toString('hex')}`, this.options.memoryLimitMb);
    } catch (err) {
      if (!this.#warnedNoCap) {
        this.#warnedNoCap = true;
        const rlimit = findPrlimit() !== undefined && rlimitDataUsable() ? 'RLIMIT_DATA still bounds it' : 'nothing but the kernel bounds it';
        this.options.logger.warn({ err }, `sandbox: no memory cgroup for the sandbox process (${rlimit}); an off-heap bomb can only kill that process, not the orchestrator`);
      }
      return undefined;
    }
  }
}
