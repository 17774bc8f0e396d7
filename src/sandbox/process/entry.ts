// The sandbox process's entry: holds the piscina pools and relays each run's port to main over IPC.
// Bundled by esbuild into a private temp folder and started by spawn-host.ts as the sandbox user.
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { PiscinaPools } from './piscina-pools.js';
import type { WorkerTask } from '../wire/task.js';
import { HOST_PROTOCOL_VERSION, toHostSchema } from '../wire/host.js';
import type { RunMessage, ToMain } from '../wire/host.js';
import { errnoCode } from '../../core/errno.js';


const [workerFile, sizeArg] = process.argv.slice(2);
/** Runs in flight here: the port to post each one's broker replies on. */
const runs = new Map<number, MessagePort>();

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

const pools = new PiscinaPools(workerFile ?? '', Math.max(1, Number(sizeArg) || 1), (err) =>
  send({ t: 'log', level: 'error', message: `a worker failed outside any task: ${messageOf(err).slice(0, 2000)}` }),
);

/** Starts one run: its own channel, its own deadline; the settled message always goes out exactly once. */
async function startRun(message: RunMessage): Promise<void> {
  const { id } = message;
  const { port1, port2 } = new MessageChannel();
  const abort = new AbortController();
  runs.set(id, port1);
  // The host's deadline; main keeps its own, a little later, in case this process stops answering.
  const timer = setTimeout(() => abort.abort(), message.timeoutMs);
  port1.on('message', (raw: unknown) => send({ t: 'request', id, raw }));
  const task: WorkerTask = { module: message.module, code: message.code, configuration: message.configuration, args: message.args, port: port2 };
  try {
    const reply = await pools.run(task, message.maxMemoryMb, abort.signal);
    send({ t: 'settled', id, ok: true, reply });
  } catch (err) {
    const code = errnoCode(err);
    const error = { ...(code !== undefined ? { code } : {}), message: messageOf(err) };
    send({ t: 'settled', id, ok: false, error, aborted: abort.signal.aborted });
  } finally {
    clearTimeout(timer);
    runs.delete(id);
    port1.close();
  }
}

/** A run this process cannot start (a malformed job) fails alone: main hears of it at once, by its id. */
function refuseRun(raw: unknown, why: string): void {
  const { t, id } = (typeof raw === 'object' && raw !== null ? raw : {}) as { t?: unknown; id?: unknown };
  if (t !== 'run' || typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || runs.has(id)) return;
  send({ t: 'settled', id, ok: false, error: { message: `the sandbox process refused the job: ${why}`.slice(0, 2000) }, aborted: false });
}

process.on('message', (raw: unknown) => {
  const parsed = toHostSchema.safeParse(raw);
  if (!parsed.success) {
    refuseRun(raw, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    return;
  }
  const message = parsed.data;
  if (message.t === 'run') void startRun(message);
  else runs.get(message.id)?.postMessage(message.reply);
});

// main went away (even by SIGKILL, which runs none of its exit handlers): nothing here may outlive it.
process.on('disconnect', () => process.exit(0));
send({ t: 'ready', v: HOST_PROTOCOL_VERSION });
