// Handler of exec: a declared command, exact argv, no shell.
import { UpdatesError } from '../../core/errors.js';
import { runCommand } from '../exec.js';
import type { Params } from '../../sdk/protocol.js';
import type { Handler, HandlerContext } from './context.js';
import { errnoCode } from '../../core/errno.js';

/** exec: argv must equal a declared command; runs with a deadline that kills its whole process group. */
/** The policy checks of an exec, shared with check mode: the exact argv, the input's size. Returns the input's bytes. */
export function checkExec(p: Params<'exec'>, ctx: HandlerContext): number {
  ctx.policy.checkCommand(p.argv);
  const inputBytes = Buffer.byteLength(p.input ?? '');
  if (inputBytes > ctx.limits.maxFileBytes) {
    throw new UpdatesError('E_LIMIT', { method: 'exec', detail: `input of ${inputBytes} bytes is more than the limit of ${ctx.limits.maxFileBytes}` });
  }
  return inputBytes;
}

export const exec: Handler<'exec'> = async (p, ctx) => {
  checkExec(p, ctx);
  let res;
  try {
    res = await runCommand(p.argv, {
      ...(p.input !== undefined ? { input: p.input } : {}),
      timeoutMs: p.timeoutMs ?? ctx.limits.execTimeoutMs,
      maxOutputBytes: ctx.limits.execMaxOutputBytes,
      signal: ctx.signal,
    });
  } catch (err) {
    throw new UpdatesError('E_IO', { method: 'exec', detail: `cannot start ${p.argv[0] ?? ''}: ${errnoCode(err) ?? 'unknown error'}` });
  }
  ctx.note({ exitCode: res.exitCode, timedOut: res.timedOut, ...(res.truncated ? { truncated: true } : {}) });
  return { exitCode: res.exitCode, stdout: res.stdout, stderr: res.stderr, timedOut: res.timedOut };
};
