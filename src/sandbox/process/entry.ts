// The sandbox process's entry: holds the piscina pools and relays each run's port to main over IPC.
// Bundled by esbuild into a private temp folder and started by spawn-host.ts as the sandbox user.
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { PiscinaPools } from './piscina-pools.js';
import { TaskDeadline } from './task-deadline.js';
import { isTaskEnded, isTaskStarted } from '../wire/task.js';
import type { NextTask, TaskEnded, WorkerTask } from '../wire/task.js';
import { HOST_PROTOCOL_VERSION, quickReply, quickRun } from '../wire/host-quick.js';
import type { RunMessage, ToHost, ToMain } from '../wire/host.js';
import { errnoCode } from '../../core/errno.js';
import { DEFAULTS } from '../../core/defaults.js';

/**
 * One piscina task: a run, then each run its worker took to follow it (NextTask), all ended by one abort (the
 * deadline of whichever is running).
 */
interface Chain {
  abort: AbortController;
  maxMemoryMb: number;
  /** Whether the piscina task is still in flight, so that its last run may still take an offer. */
  running: boolean;
  /** Resolves when the piscina task has settled. */
  settled: Promise<void>;
}

/** A run here: its port (to post broker replies on), its deadline, its place in a chain. */
interface HostRun {
  message: RunMessage;
  port: MessagePort;
  chain: Chain;
  /** Set once the run is listened to: from its start when it begins a chain, else once its worker took it. */
  deadline?: TaskDeadline;
  started: boolean;
  ended: boolean;
  /** The run offered to follow this one on its worker, until this one ends. */
  offered?: HostRun | undefined;
  /** The run this one's worker took to follow it (its end notice said so). */
  taken?: HostRun;
  /** Resolves when the port has closed: everything the worker posted on it has come in. */
  closed: Promise<void>;
}

const [workerFile, sizeArg] = process.argv.slice(2);
const runs = new Map<number, HostRun>();
/** Chains whose every run has ended, none taken to follow, while their task is still in flight: workers about to be free. */
const ending = new Set<Chain>();

function send(message: ToMain): void {
  // A message that cannot be cloned or a closed channel is dropped; main's deadline covers the silence.
  try {
    process.send?.(message);
  } catch {
    /* nothing to tell: the channel itself is what failed */
  }
}

function messageOf(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'unprintable error';
  }
}

const size = Math.max(1, Number(sizeArg) || 1);
const pools = new PiscinaPools(workerFile ?? '', size, (err) => {
  const message = messageOf(err).slice(0, 2000);
  send({ t: 'log', level: 'error', message: `a worker failed outside any task: ${message}` });
  // Runs still waiting for a worker fail now with that error, rather than each waiting out the start bound.
  for (const run of runs.values()) run.deadline?.workerFailed(message);
}, (maxMemoryMb, workers) => send({ t: 'log', level: 'debug', message: `worker started (${maxMemoryMb} MB class, ${workers} of at most ${size})` }));

/** Runs queued behind the run they follow (RunMessage.after), by the id of that run. */
const followers = new Map<number, RunMessage>();
/** Ids of the queued runs, so a duplicate id is refused like one already running. */
const queued = new Set<number>();
/** How a run ended here: with a worker reply (every SDK request of it answered), and which. */
interface RunEnd {
  clean: boolean;
  reply?: unknown;
}
/**
 * Runs that ended here lately: a run that follows one of them starts at once, or is cancelled. Bounded: main
 * names only a run it sent last.
 */
const ended = new Map<number, RunEnd>();
const MAX_ENDED = 64;
/**
 * How long a worker is waited for to let go: of a failed chain's running run, to close its port (the worker is
 * gone or has let it go); of an ending chain's task, to settle it (see startRun).
 */
const LET_GO_MS = 5000;

const NOT_CLEAN = 'not started: the module it follows did not finish normally';
const NOT_OK = 'not started: it follows only a successful run, and the module before it did not succeed';

function cancel(message: RunMessage, why: string): void {
  send({ t: 'settled', id: message.id, ok: false, error: { message: why }, aborted: false, cancelled: true });
  // Whatever followed it cannot start either.
  whenEnded(message.id, { clean: false });
}

/**
 * The verdict on a worker's reply (replyIsOk), once loaded: zod, which this process loads only when a run that
 * follows only a success arrives (see onMessage), not at its start.
 */
let replyIsOk: ((reply: unknown) => boolean) | undefined;

/** Why `message` may not start after a run that ended so (undefined: it may). */
function barred(message: RunMessage, end: RunEnd): string | undefined {
  if (!end.clean) return NOT_CLEAN;
  // A follower whose verdict cannot be reached is cancelled, which is always safe: main sends it again once it has
  // dealt with the run before. (onMessage loads the verdict before it accepts such a run, so this does not occur.)
  return message.onlyIfOk === true && replyIsOk?.(end.reply) !== true ? NOT_OK : undefined;
}

/** Run `id` ended: its follower starts now, or is cancelled. */
function whenEnded(id: number, end: RunEnd): void {
  const next = followers.get(id);
  if (next === undefined) {
    ended.set(id, end);
    if (ended.size > MAX_ENDED) ended.delete(ended.keys().next().value as number);
    return;
  }
  followers.delete(id);
  queued.delete(next.id);
  const why = barred(next, end);
  if (why === undefined) void startRun(next);
  else cancel(next, why);
}

/**
 * A run to start now, or behind the run it follows: offered to that run's worker when it may still take it (same
 * memory class, its piscina task in flight, nothing offered yet), else queued until that run ends here.
 */
function acceptRun(message: RunMessage): void {
  const { after } = message;
  if (after === undefined) {
    void startRun(message);
    return;
  }
  const before = runs.get(after);
  const free = !followers.has(after) && before?.offered === undefined && before?.taken === undefined;
  if (before !== undefined && free && !before.ended && before.chain.running && before.chain.maxMemoryMb === message.maxMemoryMb) {
    offer(before, message);
  } else if ((before !== undefined || queued.has(after)) && free) {
    followers.set(after, message);
    queued.add(message.id);
  } else if (ended.has(after)) {
    const why = barred(message, ended.get(after) as RunEnd);
    ended.delete(after);
    if (why === undefined) void startRun(message);
    else cancel(message, why);
  } else {
    cancel(message, 'not started: the module it follows did not finish normally, or is not known here');
  }
}

/** A new run's channel and state; nothing is read from its port until listen(). */
function newRun(message: RunMessage, chain: Chain): { run: HostRun; task: WorkerTask } {
  const { port1, port2 } = new MessageChannel();
  let onClose: () => void = () => undefined;
  const run: HostRun = { message, port: port1, chain, started: false, ended: false, closed: new Promise<void>((resolve) => (onClose = resolve)) };
  // The port closes with the worker's side; it never keeps this process alive.
  port1.once('close', () => {
    port1.removeAllListeners('message');
    onClose();
  });
  port1.unref();
  runs.set(message.id, run);
  const task: WorkerTask = { module: message.module, code: message.code, configuration: message.configuration, args: message.args, check: message.check, port: port2 };
  return { run, task };
}

/**
 * Reads a run's port from now on, and starts its deadline: the host's, from when its worker starts it (main keeps
 * its own, a little later, in case this process stops answering). Its deadline aborts the whole chain's task.
 */
function listen(run: HostRun): void {
  const { id } = run.message;
  const deadline = new TaskDeadline(run.message.timeoutMs);
  run.deadline = deadline;
  deadline.signal.addEventListener('abort', () => run.chain.abort.abort(), { once: true });
  run.port.on('message', (raw: unknown) => {
    if (isTaskStarted(raw)) {
      run.started = true;
      deadline.started();
      send({ t: 'started', id });
    } else if (isTaskEnded(raw)) {
      runEnded(run, raw);
    } else {
      send({ t: 'request', id, raw });
    }
  });
}

/**
 * Offers `message`, which follows `before`, to the worker running (or about to run) `before`: posted on
 * `before`'s port with the new run's own port, it starts there the moment `before` ends, if it came in time.
 */
function offer(before: HostRun, message: RunMessage): void {
  const { run, task } = newRun(message, before.chain);
  before.offered = run;
  const next: NextTask = { t: 'next-task', task, ...(message.onlyIfOk === true ? { onlyIfOk: true } : {}) };
  before.port.postMessage(next, [task.port]);
}

/**
 * A run's end notice: its reply goes to main; then the run its worker took is listened to (so nothing of it
 * reaches main before this one's end), or an offer not taken starts as a task of its own, or is cancelled when
 * it follows only a success and this run did not succeed.
 */
function runEnded(run: HostRun, note: TaskEnded): void {
  if (run.ended) return;
  run.ended = true;
  run.deadline?.clear();
  runs.delete(run.message.id);
  send({ t: 'settled', id: run.message.id, ok: true, reply: note.reply });
  const offered = run.offered;
  run.offered = undefined;
  if (offered !== undefined && note.next) {
    run.taken = offered;
    listen(offered);
    return;
  }
  // Nothing more runs on this chain's worker: it is free once the task settles (see startRun).
  if (run.chain.running) ending.add(run.chain);
  const end: RunEnd = { clean: true, reply: note.reply };
  if (offered !== undefined) {
    const why = barred(offered.message, end);
    if (why === undefined) restart(offered);
    else forget(offered).forEach((message, i) => cancel(message, i === 0 ? why : NOT_CLEAN));
  }
  whenEnded(run.message.id, end);
}

/** Forgets an offered run and those offered after it; returns their messages, in order. */
function forget(first: HostRun): RunMessage[] {
  const messages: RunMessage[] = [];
  for (let run: HostRun | undefined = first; run !== undefined; run = run.offered) {
    runs.delete(run.message.id);
    run.port.close();
    messages.push(run.message);
  }
  return messages;
}

/** An offer its worker did not take (it came too late): it starts as a task of its own, its followers after it. */
function restart(first: HostRun): void {
  const [head, ...rest] = forget(first);
  if (head === undefined) return;
  void startRun(head);
  for (const message of rest) acceptRun(message);
}

/**
 * Starts a chain with one run; the settled message of each of its runs goes out exactly once. When every worker
 * of its class is busy and one of them has just ended its last run, the task waits for that one (a moment,
 * bounded): submitted now, it would make piscina start another worker, whose start takes a core of a small
 * machine from the modules running, for a worker that runs one after another never need.
 */
async function startRun(message: RunMessage): Promise<void> {
  let onSettled: () => void = () => undefined;
  const chain: Chain = { abort: new AbortController(), maxMemoryMb: message.maxMemoryMb, running: true, settled: new Promise<void>((resolve) => (onSettled = resolve)) };
  const freeing = pools.busy(message.maxMemoryMb) ? [...ending].find((c) => c.maxMemoryMb === message.maxMemoryMb) : undefined;
  const { run: head, task } = newRun(message, chain);
  listen(head);
  if (freeing !== undefined) await within(freeing.settled, LET_GO_MS);
  let failure: { err: unknown } | undefined;
  try {
    await pools.run(task, message.maxMemoryMb, chain.abort.signal);
  } catch (err) {
    failure = { err };
  }
  chain.running = false;
  ending.delete(chain);
  onSettled();
  // Each run of the chain settled as its end notice came in (runEnded); the notices may still be on their way,
  // and come in before the port closes. The first run that did not end is the one the task's failure is about.
  let run: HostRun | undefined = head;
  while (run !== undefined) {
    // A chain's first run that no worker started has nothing on its way (its port is still in piscina's queue).
    if (run !== head || run.started || failure === undefined) await within(run.closed, LET_GO_MS);
    if (!run.ended) break;
    run = run.taken;
  }
  if (run === undefined) return;
  runFailed(run, failure?.err ?? new Error('the worker ended the module\'s run without its reply'));
}

/**
 * Resolves when `event` has, or after `ms`: a run's port closing (a worker that keeps it open has nothing more to
 * say), a chain's task settling (a worker that does not let go of a task is waited for no longer).
 */
async function within(event: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([event, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** The run that was running when its chain's task failed fails with that error; the offers after it never started. */
function runFailed(run: HostRun, err: unknown): void {
  const { id } = run.message;
  const deadline = run.deadline;
  const code = errnoCode(err);
  const error = { ...(code !== undefined ? { code } : {}), message: messageOf(err) };
  const why = deadline?.reason === 'start' ? { notStarted: true as const } : deadline?.reason === 'worker' ? { workerError: deadline.workerError ?? '' } : {};
  send({ t: 'settled', id, ok: false, error, aborted: deadline?.signal.aborted ?? false, ...why });
  deadline?.clear();
  runs.delete(id);
  run.port.removeAllListeners('message');
  const offered = run.offered;
  run.offered = undefined;
  whenEnded(id, { clean: false });
  if (offered !== undefined) for (const message of forget(offered)) cancel(message, NOT_CLEAN);
}

/** A run this process cannot start (a malformed job) fails alone: main hears of it at once, by its id. */
function refuseRun(raw: unknown, why: string): void {
  const { t, id } = (typeof raw === 'object' && raw !== null ? raw : {}) as { t?: unknown; id?: unknown };
  if (t !== 'run' || typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || runs.has(id) || queued.has(id)) return;
  send({ t: 'settled', id, ok: false, error: { message: `the sandbox process refused the job: ${why}`.slice(0, 2000) }, aborted: false });
}

/**
 * One message from main. Those main sends for every run pass the hand-written checks (host-quick.ts); anything
 * else, and the verdict a run that follows only a success needs, load zod (wire/host.ts, wire/worker-reply.ts) on
 * first use. Messages are handled one after another, in the order they came, even when one waits for that load.
 */
async function onMessage(raw: unknown): Promise<void> {
  let message: ToHost | undefined = quickReply(raw) ?? quickRun(raw);
  if (message === undefined) {
    const { toHostSchema } = await import('../wire/host.js');
    const parsed = toHostSchema.safeParse(raw);
    if (!parsed.success) {
      refuseRun(raw, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      return;
    }
    message = parsed.data;
  }
  if (message.t === 'run' && message.onlyIfOk === true) replyIsOk ??= (await import('../wire/worker-reply.js')).replyIsOk;
  if (message.t === 'run') acceptRun(message);
  else {
    runs.get(message.id)?.port.postMessage(message.reply);
  }
}

/** The messages handled so far, in order: each is handled once the one before it has been. */
let handled: Promise<void> = Promise.resolve();
process.on('message', (raw: unknown) => {
  handled = handled.then(() => onMessage(raw)).catch((err: unknown) => {
    send({ t: 'log', level: 'error', message: `a message from main could not be handled: ${messageOf(err)}`.slice(0, 4000) });
  });
});

// The workers of the default memory class start now, while main is still busy with Phase 1.
pools.prestart(DEFAULTS.moduleMaxMemoryMb);

// main went away (even by SIGKILL, which runs none of its exit handlers): nothing here may outlive it.
process.on('disconnect', () => process.exit(0));
send({ t: 'ready', v: HOST_PROTOCOL_VERSION });
