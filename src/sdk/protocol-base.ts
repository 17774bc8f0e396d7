/**
 * The part of the module ↔ broker protocol (protocol.ts) that both ends need at every run: its version, a reply
 * and the error it may carry, and what a module's main() must resolve to. A sandbox worker loads this alone; the
 * schemas of every method's parameters and results (protocol.ts) only the broker validates with.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// zod/mini ships without messages; the SDK imports nothing of the orchestrator, so it sets zod's English locale
// itself (src/core/zod-messages.ts does the same for the orchestrator's other zod/mini schemas).
z.config(en());

/** Protocol version carried by every message; a message with any other version is refused. */
export const PROTOCOL_VERSION = 1;

/** An error as it crosses the channel: plain data, never a live Error. */
export const wireErrorSchema = z.strictObject({
  code: z.string(),
  message: z.string(),
  data: z.optional(z.record(z.string(), z.unknown())),
});
export type WireError = z.infer<typeof wireErrorSchema>;

/** A reply, as it leaves the broker. */
export const replySchema = z.discriminatedUnion('ok', [
  z.strictObject({ v: z.literal(PROTOCOL_VERSION), id: z.int(), ok: z.literal(true), result: z.unknown() }),
  z.strictObject({ v: z.literal(PROTOCOL_VERSION), id: z.int(), ok: z.literal(false), error: wireErrorSchema }),
]);
export type Reply = z.infer<typeof replySchema>;

/**
 * What a module's `main()` must resolve to: `success` (false fails the module, as a throw does), `changed`
 * (whether it changed anything, for the report) and a short `message` for the report. Any other value is a
 * failed module.
 */
export const moduleResultSchema = z.strictObject({
  success: z.boolean(),
  changed: z.optional(z.boolean()),
  message: z.optional(z.string().check(z.maxLength(8192))),
});
export type ModuleResult = z.infer<typeof moduleResultSchema>;
