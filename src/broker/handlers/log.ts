// Handler of log: a module's own log line, forwarded to its logger at the level it asked for.
// Policy: every module may log; the volume is bounded by the broker's request limit and the message
// length by the protocol schema.
import type { Handler } from './context.js';

/** Control characters (terminal escapes, newlines, carriage returns) that could forge or hide lines in a pretty log. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/** log: one line at the module's level, marked moduleLog so readers can tell it from the orchestrator's. */
export const log: Handler<'log'> = async (p, ctx) => {
  ctx.logger[p.level]({ moduleLog: true }, p.message.replace(CONTROL, '\uFFFD'));
  return null;
};
