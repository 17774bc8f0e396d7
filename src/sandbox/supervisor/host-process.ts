// One running sandbox process, seen from main: its jobs, their brokers and deadlines, and how it ends.
import type { ChildProcess } from 'node:child_process';
import { killGroup } from '../../core/process-group.js';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { DEFAULTS } from '../../core/defaults.js';
import { outcomeOfHostLoss, outcomeOfRejection, outcomeOfReply, outcomeOfTaskRejection } from './outcome.js';
import type { HostLoss } from './outcome.js';
import { createBrokerRelay } from './relay.js';
import type { BrokerRelay } from './relay.js';
import type { JobBroker, ModuleJob, ModuleOutcome } from '../wire/task.js';
import type { MemoryCgroup } from './cgroup.js';
import { HOST_PROTOCOL_VERSION, quickRun, quickToMain, toHostSchema, toMainSchema } from '../wire/host.js';
import { describeIssues } from '../../core/issues.js';
import type { SettledMessage, ToHost } from '../wire/host.js';
import { pipeLines } from './stdio-log.js';

/** Requests of a chained job held while the job before it finishes its own; more means the process misbehaves. */
const MAX_HELD = 64;

/** A job in flight in the process. */
interface InFlight {
  job: ModuleJob;
  relay: BrokerRelay;
  started: number;
  /** Whether the worker has started the task (its deadline then runs from `started`). */
  running: boolean;
  /** Whether anything of the run reached main ('started' or a request): a run that did is never run again. */
  active: boolean;
  /** Unset while the run waits behind the one it follows: its bounds run once that one has ended here. */
  deadline: NodeJS.Timeout | undefined;
  /** Whether it was sent to follow another job (RunMessage.after). */
  chained: boolean;
  /** The run queued to start after this one, in the process. */
  follower?: number;
  /** The job this one follows, while that one has not ended here: nothing of this one may arrive before. */
  after?: number | undefined;
  /** It follows only a successful run (RunMessage.onlyIfOk). */
  onlyIfOk: boolean;
  /**
   * The job it follows only on success did not succeed: the process must cancel it, and it is no longer trusted
   * if anything else of it arrives.
   */
  barred?: true;
  /**
   * Requests that arrived once the job it follows had ended but before that one's requests were all handled
   * (relay.drained): delivered in order right after. Undefined when nothing is to wait for.
   */
  held?: unknown[] | undefined;
  /**
   * Its outcome, when it came while its requests were still held: the run ends once they are handed to its broker
   * (a module whose log lines the sandbox process answered itself can be done before main has seen them).
   */
  outcomeHeld?: ModuleOutcome | undefined;
  resolve(result: HostResult): void;
}

/** How a job ended in this process. */
export interface HostResult {
  outcome: ModuleOutcome;
  /**
   * The job followed another and never started: the process cancelled it, or ended, before anything of it reached
   * main. It had no effect, so it may run again (unchained).
   */
  unstarted: boolean;
}

/** Limits of one process, for its jobs and its messages. */
export interface HostLimits {
  /** How long main waits past a job's own deadline before it declares the process hung and kills it. */
  graceMs: number;
  /** The process's memory cap, MB (for messages). */
  capMb: number;
}

/**
 * main's handle on one sandbox process. Every relayed request is routed by the job id main assigned when it sent
 * the run, to that job's broker only; anything else the process sends is validated and otherwise ignored.
 * main keeps an authoritative deadline per job: a process that does not settle a job in time is killed, whole.
 */
export class HostProcess {
  readonly #jobs = new Map<number, InFlight>();
  /** Relays of jobs already settled: a request of theirs that still arrives is refused and audited, not dropped. */
  readonly #ended = new Map<number, BrokerRelay>();
  /** Chained jobs that never started: their relay closes without closing their broker. */
  readonly #keepBroker = new Set<number>();
  #nextId = 1;
  #loss: string | undefined;
  #closed = false;
  readonly #killOnExit = (): void => killGroup(this.child.pid);
  /** Resolves once the process is gone and every job it held has settled. */
  readonly closed: Promise<void>;

  constructor(
    readonly child: ChildProcess,
    private readonly cgroup: MemoryCgroup | undefined,
    private readonly limits: HostLimits,
    private readonly logger: Logger,
  ) {
    // main's own exit, however it comes, takes the group with it (SIGKILL of main: see the host's 'disconnect').
    process.once('exit', this.#killOnExit);
    child.on('message', (raw: unknown) => this.#onMessage(raw));
    // Unhandled, a ChildProcess 'error' event would end main.
    child.on('error', (err) => {
      logger.error({ err }, 'sandbox: the sandbox process failed');
      this.kill(`the sandbox process failed: ${err.message}`);
    });
    pipeLines(child, logger);
    this.closed = new Promise((resolve) => child.once('close', (code, signal) => void this.#onClose(code, signal).then(resolve)));
  }

  /** Whether new jobs may go to this process. */
  get alive(): boolean {
    return !this.#closed && this.#loss === undefined;
  }

  /** Resolves when the process says it is ready; rejects if it ends or stays silent for `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let pending = true;
      const fail = (why: string): void => {
        if (!pending) return;
        pending = false;
        clearTimeout(timer);
        this.kill(why);
        reject(new Error(`the sandbox process did not start: ${why}`));
      };
      const timer = setTimeout(() => fail(`no answer within ${timeoutMs} ms`), timeoutMs);
      this.child.once('error', (err: NodeJS.ErrnoException) =>
        fail(err.code === 'EACCES' ? `${err.message}: the sandbox user cannot execute ${process.execPath}; make it and its folders readable and executable by that user` : err.message),
      );
      this.child.once('close', (code, signal) => fail(`it ended (${signal ?? `exit code ${code}`})`));
      this.child.on('message', (raw: unknown) => {
        const parsed = toMainSchema.safeParse(raw);
        if (!pending || !parsed.success || parsed.data.t !== 'ready') return;
        if (parsed.data.v !== HOST_PROTOCOL_VERSION) return fail(`protocol version ${parsed.data.v}, expected ${HOST_PROTOCOL_VERSION}`);
        pending = false;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Runs one job in this process; never rejects. */
  async run(job: ModuleJob): Promise<ModuleOutcome> {
    return (await this.submit(job).result).outcome;
  }

  /** Whether a job may be sent to follow job `id`: it is still in flight here and nothing follows it yet. */
  canFollow(id: number): boolean {
    return this.alive && this.#jobs.get(id)?.follower === undefined && this.#jobs.has(id);
  }

  /**
   * Sends one job; `after` names a job it must follow, for which canFollow() holds (else it is sent unchained): the process starts it only once
   * that one has settled with a worker reply (and cancels it otherwise), with `onlyIfOk` only once that one has
   * succeeded (replyIsOk, main's own verdict: a run started after any other outcome ends the process). Its start
   * bound runs from when that one ends in main; its own deadline, as always, from 'started'. Never rejects.
   */
  submit(job: ModuleJob, after?: number, onlyIfOk = false): { id: number; result: Promise<HostResult> } {
    const id = this.#nextId++;
    const chained = after !== undefined && this.canFollow(after) ? after : undefined;
    const result = new Promise<HostResult>((resolve) => {
      // A chained job that never started keeps its broker open: it runs again, with that broker (see HostResult).
      const broker: JobBroker = chained === undefined ? job.broker : {
        handle: (raw) => job.broker.handle(raw),
        close: () => {
          if (!this.#keepBroker.delete(id)) job.broker.close();
        },
      };
      const relay = createBrokerRelay(broker, this.logger.child({ module: job.module }), (reply) => this.#send({ t: 'reply', id, reply }), job.module);
      // Until a worker starts the task, the bound is the start's; the module's own deadline runs from 'started'.
      const deadline = chained === undefined ? setTimeout(() => this.#onDeadline(id), DEFAULTS.workerStartTimeoutMs + this.limits.graceMs) : undefined;
      const conditional = chained !== undefined && onlyIfOk;
      this.#jobs.set(id, { job, relay, started: performance.now(), running: false, active: false, chained: chained !== undefined, ...(chained !== undefined ? { after: chained } : {}), onlyIfOk: conditional, deadline, resolve });
      const { module, code, configuration, args, timeoutMs, maxMemoryMb } = job;
      const message: ToHost = {
        t: 'run', id, module, code, configuration: { ...configuration }, args: [...args], check: job.check ?? false, timeoutMs, maxMemoryMb,
        ...(chained !== undefined ? { after: chained } : {}),
        ...(conditional ? { onlyIfOk: true as const } : {}),
      };
      // A job the process would refuse (a deadline of 0 ms...) fails alone, here, and is never sent. The process
      // takes the message by its hand-written check; what that check leaves is judged by the schema, as there.
      const valid = quickRun(message) !== undefined ? undefined : toHostSchema.safeParse(message);
      if (valid !== undefined && !valid.success) {
        this.#finish(id, outcomeOfRejection(job, new Error(`the sandbox refuses this job: ${describeIssues(valid.error)}`), false, 0));
      } else if (!this.#send(message)) {
        this.#finish(id, outcomeOfRejection(job, new Error('its job could not be sent to the sandbox process'), false, 0));
      } else if (chained !== undefined) {
        const before = this.#jobs.get(chained);
        if (before !== undefined) before.follower = id;
      }
    });
    return { id, result };
  }

  /** Kills the process group; jobs still in it settle as failed with `why`. */
  kill(why: string): void {
    this.#loss ??= why;
    killGroup(this.child.pid);
  }

  /** Sends one message; false when it could not even be serialized (the channel itself is then left alone). */
  #send(message: ToHost): boolean {
    if (this.#closed || !this.child.connected) return true;
    try {
      // A send that fails later means the channel is gone; 'close' settles every job then.
      this.child.send(message, (err) => {
        if (err !== null && err !== undefined) this.kill(`the IPC channel failed: ${err.message}`);
      });
      return true;
    } catch (err) {
      this.logger.error({ err }, 'sandbox: could not send a message to the sandbox process');
      return false;
    }
  }

  #onMessage(raw: unknown): void {
    let message = quickToMain(raw);
    if (message === undefined) {
      const parsed = toMainSchema.safeParse(raw);
      if (!parsed.success) {
        this.logger.warn('sandbox: ignored a malformed message from the sandbox process');
        return;
      }
      message = parsed.data;
    }
    if (message.t === 'request') {
      const run = this.#jobs.get(message.id);
      if (run === undefined) this.#ended.get(message.id)?.deliver(message.raw);
      else if (this.#outOfOrder(run) || this.#startedBarred(run)) return;
      else if (run.held !== undefined) {
        if (run.held.length >= MAX_HELD) this.kill(`the sandbox process sent too many requests of module "${run.job.module}" before the module before it was done`);
        else {
          // It reached main, held or not: a run that sent it is never run again.
          run.active = true;
          run.held.push(message.raw);
        }
      } else {
        run.active = true;
        run.relay.deliver(message.raw);
      }
    } else if (message.t === 'started') this.#onStarted(message.id);
    else if (message.t === 'settled') this.#onSettled(message);
    else if (message.t === 'log') this.logger[message.level](`sandbox process: ${message.message}`);
  }

  #onStarted(id: number): void {
    const run = this.#jobs.get(id);
    if (run === undefined || run.running || this.#outOfOrder(run) || this.#startedBarred(run)) return;
    run.running = true;
    run.active = true;
    run.started = performance.now();
    clearTimeout(run.deadline);
    run.deadline = setTimeout(() => this.#onDeadline(id), run.job.timeoutMs + this.limits.graceMs);
    run.job.onStarted?.();
  }

  /**
   * Whether the process sent something of a chained job while the job it follows had not ended here: it never does
   * (it starts a job only once the one before has settled, and says so first), so it is no longer trusted.
   */
  #outOfOrder(run: InFlight): boolean {
    if (run.after === undefined || !this.#jobs.has(run.after)) return false;
    this.kill(`the sandbox process started module "${run.job.module}" before the module before it had settled`);
    return true;
  }

  /**
   * Whether the process ran a job that follows only a success after a run main judged not successful: it never
   * does (it judges by the same test), so it is no longer trusted.
   */
  #startedBarred(run: InFlight): boolean {
    if (run.barred !== true) return false;
    this.kill(`the sandbox process started module "${run.job.module}" although the module before it did not succeed`);
    return true;
  }

  #onSettled(message: SettledMessage): void {
    const run = this.#jobs.get(message.id);
    if (run === undefined) return;
    if (run.barred === true && (message.ok || message.cancelled !== true)) {
      this.#startedBarred(run);
      return;
    }
    const ms = elapsed(run.started);
    // Believed only for a run of which nothing reached main: one that did is never run again, whatever it says.
    if (!message.ok && message.cancelled === true && run.chained && !run.active) this.#finish(message.id, outcomeOfRejection(run.job, new Error(message.error.message), false, ms), true);
    else if (message.ok) this.#finish(message.id, outcomeOfReply(run.job, message.reply, ms));
    else {
      const err = Object.assign(new Error(message.error.message), message.error.code !== undefined ? { code: message.error.code } : {});
      const reason = message.notStarted === true ? 'start' : message.workerError !== undefined ? 'worker' : message.aborted ? 'deadline' : undefined;
      this.#finish(message.id, outcomeOfTaskRejection(run.job, err, { reason, workerError: message.workerError }, ms));
    }
  }

  #onDeadline(id: number): void {
    const run = this.#jobs.get(id);
    if (run === undefined) return;
    this.#finish(id, outcomeOfTaskRejection(run.job, new Error('deadline'), { reason: run.running ? 'deadline' : 'start' }, elapsed(run.started)));
    // The process missed its own deadline for this job by graceMs: it is hung or starved. End it, whole.
    this.kill(`the sandbox process was stopped because module "${run.job.module}" overran its deadline and the process did not stop it`);
  }

  #finish(id: number, outcome: ModuleOutcome, unstarted = false): void {
    const run = this.#jobs.get(id);
    if (run === undefined) return;
    const next = this.#followerOf(run, outcome);
    if (run.held !== undefined && !unstarted) {
      // Its requests wait for the job before it to be done with its own; its end waits for them (see #release),
      // and no deadline of its own runs meanwhile: it is over.
      run.outcomeHeld ??= outcome;
      clearTimeout(run.deadline);
      run.deadline = undefined;
      return;
    }
    // An unstarted job's broker stays open for its next attempt (the relay then closes without it), and nothing
    // that still arrives under this id reaches it.
    if (unstarted) this.#keepBroker.add(id);
    run.relay.close();
    this.#jobs.delete(id);
    if (!unstarted) this.#ended.set(id, run.relay);
    clearTimeout(run.deadline);
    // Requests already with the broker finish (or are refused) before the run is reported over, and before a
    // request of the job that follows it is handled.
    void run.relay.drained().then(() => {
      if (next !== undefined) this.#release(run.follower as number, next);
      run.resolve({ outcome, unstarted });
    });
  }

  /**
   * The job that follows `run`, now that `run` has ended in the process (settled, or its end is held) with
   * `outcome`: from here on the follower may send (unless it follows only a success and this was none: then it
   * must be cancelled), its requests wait until `run`'s own are done, and its start bound runs. Done once.
   */
  #followerOf(run: InFlight, outcome: ModuleOutcome): InFlight | undefined {
    const next = run.follower !== undefined ? this.#jobs.get(run.follower) : undefined;
    if (next === undefined || next.after === undefined) return next;
    const nextId = run.follower as number;
    if (next.onlyIfOk && outcome.status !== 'ok') next.barred = true;
    next.after = undefined;
    next.held = [];
    if (next.deadline === undefined && !next.running) {
      next.started = performance.now();
      next.deadline = setTimeout(() => this.#onDeadline(nextId), DEFAULTS.workerStartTimeoutMs + this.limits.graceMs);
    }
    return next;
  }

  /** Hands a job the requests held while the job before it finished its own; then ends it, if it is already over. */
  #release(id: number, run: InFlight): void {
    const held = run.held ?? [];
    run.held = undefined;
    if (held.length > 0) run.active = true;
    for (const raw of held) run.relay.deliver(raw);
    const outcome = run.outcomeHeld;
    run.outcomeHeld = undefined;
    if (outcome !== undefined) this.#finish(id, outcome);
  }

  async #onClose(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    this.#closed = true;
    process.removeListener('exit', this.#killOnExit);
    // Whatever it started, nothing of the group may outlive it.
    killGroup(this.child.pid);
    const oomKilled = this.cgroup !== undefined && (await this.cgroup.oomKills()) > 0;
    const loss: HostLoss = { oomKilled, capMb: this.limits.capMb, detail: this.#loss ?? `the sandbox process ended (${signal ?? `exit code ${code}`})` };
    if (this.#jobs.size > 0) this.logger.error({ code, signal, oomKilled, jobs: this.#jobs.size }, `sandbox: ${loss.detail}`);
    // A chained job of which nothing reached main had no effect: it may run again in the next process.
    for (const [id, run] of this.#jobs) this.#finish(id, outcomeOfHostLoss(run.job, loss, elapsed(run.started)), run.chained && !run.active);
    await this.cgroup?.remove().catch((err: unknown) => this.logger.warn({ err }, 'sandbox: could not remove the memory cgroup'));
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
