// The IPC protocol between the orchestrator (main) and the sandbox process (host): zod/mini schemas, types inferred.
// The hand-written checks of the frequent messages are in host-quick.ts (no zod: the sandbox process loads the
// schemas only for a message those checks do not take).
import * as z from 'zod/mini';
import '../../core/zod-messages.js';

export { HOST_PROTOCOL_VERSION, quickReply, quickRun, quickToMain } from './host-quick.js';

/** A job id, assigned by main: the only identity main trusts for a relayed request. */
const jobId = z.int().check(z.nonnegative());

/** main → host: start one module run. */
const runMessage = z.strictObject({
  t: z.literal('run'),
  id: jobId,
  module: z.string(),
  code: z.string(),
  configuration: z.record(z.string(), z.unknown()),
  args: z.array(z.string()),
  check: z.boolean(),
  timeoutMs: z.number().check(z.positive()),
  maxMemoryMb: z.number().check(z.positive()),
  /**
   * The run this one follows: the host starts it only once that run has settled with a worker reply (every SDK
   * request of it answered); if that run ends any other way, or is not known, this one is cancelled unstarted.
   */
  after: z.optional(jobId),
  /**
   * With `after`: this run follows only a successful run (replyIsOk, the verdict main reaches on its reply). After
   * any other outcome it is cancelled unstarted: main first deals with that outcome (a rollback, a rerun), then
   * sends this run again.
   */
  onlyIfOk: z.optional(z.literal(true)),
});

/** What main may send to the host. */
export const toHostSchema = z.discriminatedUnion('t', [
  runMessage,
  /** The broker's reply to a request of run `id`, posted as is to that run's worker port. */
  z.strictObject({ t: z.literal('reply'), id: jobId, reply: z.unknown() }),
]);

/** How a task settled in the host, as plain data. */
const settledMessage = z.discriminatedUnion('ok', [
  z.strictObject({ t: z.literal('settled'), id: jobId, ok: z.literal(true), reply: z.unknown() }),
  z.strictObject({
    t: z.literal('settled'),
    id: jobId,
    ok: z.literal(false),
    /** piscina's rejection, flattened (e.g. code ERR_WORKER_OUT_OF_MEMORY). */
    error: z.strictObject({ code: z.optional(z.string()), message: z.string() }),
    aborted: z.boolean(),
    /** The task was aborted because no worker started it in time (not a module timeout). */
    notStarted: z.optional(z.literal(true)),
    /** The task was aborted before it started because a worker of its pool failed with this error. */
    workerError: z.optional(z.string().check(z.maxLength(4096))),
    /** The run was never started: the run it follows did not settle with a worker reply (see `after`). */
    cancelled: z.optional(z.literal(true)),
  }),
]);

/**
 * What the host may send to main. main validates each one: module code ran in that process. Discriminated by `t`
 * (and a settled message by `ok`), so each message is checked against its one shape only.
 */
export const toMainSchema = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('ready'), v: z.number() }),
  /** Run `id`'s worker started the task: main's deadline for it runs from now. */
  z.strictObject({ t: z.literal('started'), id: jobId }),
  /** A raw SDK request from run `id`'s worker port; main hands it to that run's broker only. */
  z.strictObject({ t: z.literal('request'), id: jobId, raw: z.unknown() }),
  settledMessage,
  z.strictObject({ t: z.literal('log'), level: z.enum(['debug', 'warn', 'error']), message: z.string().check(z.maxLength(4096)) }),
]);

export type ToHost = z.infer<typeof toHostSchema>;
export type RunMessage = z.infer<typeof runMessage>;
export type ToMain = z.infer<typeof toMainSchema>;
export type SettledMessage = z.infer<typeof settledMessage>;
