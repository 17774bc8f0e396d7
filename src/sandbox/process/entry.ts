// The sandbox process's entry: holds the piscina pools and relays each run's port to main over IPC.
// Bundled by esbuild into a private temp folder and started by spawn-host.ts as the sandbox user.
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { PiscinaPools } from './piscina-pools.js';
import { TaskDeadline } from './task-deadline.js';
import { isTaskEnded, isTaskStarted } from '../wire/task.js';
import type { WorkerTask } from '../wire/task.js';
import { HOST_PROTOCOL_VERSION, quickReply, toHostSchema } from '../wire/host.js';
import type { RunMessage, ToMain } from '../wire/host.js';
import { errnoCode } from '../../core/errno.js';
import { DEFAULTS } from '../../core/defaults.js';

/** A run in flight here: its port (to post broker replies on) and its deadline. */
interface HostRun {
  port: MessagePort;
  deadline: TaskDeadline;
}

const [workerFile, sizeArg] = process.argv.slice(2);
const runs = new Map<number, HostRun>();

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

const pools = new PiscinaPools(workerFile ?? '', Math.max(1, Number(sizeArg) || 1), (err) => {
  const message = messageOf(err).slice(0, 2000);
  send({ t: 'log', level: 'error', message: `a worker failed outside any task: ${message}` });
  // Runs still waiting for a worker fail now with that error, rather than each waiting out the start bound.
  for (const run of runs.values()) run.deadline.workerFailed(message);
});

/** Runs queued behind the run they follow (RunMessage.after), by the id of that run. */
const followers = new Map<number, RunMessage>();
/** Ids of the queued runs, so a duplicate id is refused like one already running. */
const queued = new Set<number>();
/**
 * Runs that ended here lately, and whether with a worker reply (every SDK request of theirs answered): a run
 * that follows one of them starts at once, or is cancelled. Bounded: main names only a run it sent last.
 */
const ended = new Map<number, boolean>();
const MAX_ENDED = 64;

function cancel(message: RunMessage, why: string): void {
  send({ t: 'settled', id: message.id, ok: false, error: { message: why }, aborted: false, cancelled: true });
  // Whatever followed it cannot start either.
  whenEnded(message.id, false);
}

/** A run ended (`clean`: with a worker reply): its follower starts now, or is cancelled. */
function whenEnded(id: number, clean: boolean): void {
  const next = followers.get(id);
  if (next === undefined) {
    ended.set(id, clean);
    if (ended.size > MAX_ENDED) ended.delete(ended.keys().next().value as number);
    return;
  }
  followers.delete(id);
  queued.delete(next.id);
  if (clean) void startRun(next);
  else cancel(next, 'not started: the module it follows did not finish normally');
}

/** A run to start now, or behind the run it follows. */
function acceptRun(message: RunMessage): void {
  const { after } = message;
  if (after === undefined) {
    void startRun(message);
  } else if ((runs.has(after) || queued.has(after)) && !followers.has(after)) {
    followers.set(after, message);
    queued.add(message.id);
  } else if (ended.get(after) === true) {
    ended.delete(after);
    void startRun(message);
  } else {
    cancel(message, 'not started: the module it follows did not finish normally, or is not known here');
  }
}

/** Starts one run: its own channel, its own deadline; the settled message always goes out exactly once. */
async function startRun(message: RunMessage): Promise<void> {
  const { id } = message;
  const { port1, port2 } = new MessageChannel();
  // The host's deadline, from when a worker starts the task; main keeps its own, a little later, in case this
  // process stops answering.
  const deadline = new TaskDeadline(message.timeoutMs);
  runs.set(id, { port: port1, deadline });
  let portEnded: () => void = () => undefined;
  /** The worker's end notice: every request of the run has come through the port (see TASK_ENDED). */
  const requestsIn = new Promise<void>((resolve) => (portEnded = resolve));
  port1.on('message', (raw: unknown) => {
    if (isTaskStarted(raw)) {
      deadline.started();
      send({ t: 'started', id });
      return;
    }
    if (isTaskEnded(raw)) {
      portEnded();
      return;
    }
    send({ t: 'request', id, raw });
  });
  // A request that still arrives after the run settled goes to main too, which refuses and audits it; the port
  // closes with the worker's side and never keeps this process alive.
  port1.once('close', () => port1.removeAllListeners('message'));
  port1.unref();
  const task: WorkerTask = { module: message.module, code: message.code, configuration: message.configuration, args: message.args, check: message.check, port: port2 };
  let clean = false;
  try {
    const reply = await pools.run(task, message.maxMemoryMb, deadline.signal);
    // The reply comes on piscina's own channel and can overtake the port: the run's requests go to main first.
    await requestsIn;
    // The follower starts before main hears of this one: its start is then off the IPC round trip.
    clean = true;
    deadline.clear();
    runs.delete(id);
    whenEnded(id, true);
    send({ t: 'settled', id, ok: true, reply });
  } catch (err) {
    const code = errnoCode(err);
    const error = { ...(code !== undefined ? { code } : {}), message: messageOf(err) };
    const why = deadline.reason === 'start' ? { notStarted: true as const } : deadline.reason === 'worker' ? { workerError: deadline.workerError ?? '' } : {};
    send({ t: 'settled', id, ok: false, error, aborted: deadline.signal.aborted, ...why });
  } finally {
    deadline.clear();
    runs.delete(id);
    if (!clean) whenEnded(id, false);
  }
}

/** A run this process cannot start (a malformed job) fails alone: main hears of it at once, by its id. */
function refuseRun(raw: unknown, why: string): void {
  const { t, id } = (typeof raw === 'object' && raw !== null ? raw : {}) as { t?: unknown; id?: unknown };
  if (t !== 'run' || typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || runs.has(id) || queued.has(id)) return;
  send({ t: 'settled', id, ok: false, error: { message: `the sandbox process refused the job: ${why}`.slice(0, 2000) }, aborted: false });
}

process.on('message', (raw: unknown) => {
  let message = quickReply(raw);
  if (message === undefined) {
    const parsed = toHostSchema.safeParse(raw);
    if (!parsed.success) {
      refuseRun(raw, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
      return;
    }
    message = parsed.data;
  }
  if (message.t === 'run') acceptRun(message);
  else {
    runs.get(message.id)?.port.postMessage(message.reply);
  }
});

// The workers of the default memory class start now, while main is still busy with Phase 1.
pools.prestart(DEFAULTS.moduleMaxMemoryMb);

// main went away (even by SIGKILL, which runs none of its exit handlers): nothing here may outlive it.
process.on('disconnect', () => process.exit(0));
send({ t: 'ready', v: HOST_PROTOCOL_VERSION });
