// What a sandbox worker answers for one module run, and the verdict on it; zod, so apart from task.ts: the sandbox
// process loads this only when it must judge a reply (a run that follows only a success), not at its start.
import * as z from 'zod/mini';
import '../../core/zod-messages.js';
import { moduleResultSchema } from '../../sdk/protocol-base.js';
import { plainErrorSchema } from '../../core/errors.js';

/**
 * What a worker answers: the validated result of main(), or why the module failed (a catalogue code). main
 * validates each reply again: a worker is where hostile code ran.
 */
export const workerReplySchema = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), result: moduleResultSchema }),
  z.strictObject({ ok: z.literal(false), error: z.pick(plainErrorSchema, { code: true, message: true }) }),
]);
export type WorkerReply = z.infer<typeof workerReplySchema>;

/**
 * Whether a worker's reply makes a successful run: the verdict main reaches on it (outcomeOfReply's status 'ok').
 * The worker and the sandbox process judge by this same test whether a run that follows only a success may start.
 */
export function replyIsOk(reply: unknown): boolean {
  const parsed = workerReplySchema.safeParse(reply);
  return parsed.success && parsed.data.ok && parsed.data.result.success;
}
