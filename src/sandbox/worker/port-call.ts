// Worker side of a module's channel: turns SDK calls into protocol requests on the port and matches the replies.
import type { MessagePort } from 'node:worker_threads';
import type { Call } from '../../sdk/client.js';
import { SdkError } from '../../sdk/client.js';
import type { Method, Params, Results } from '../../sdk/protocol.js';
import { PROTOCOL_VERSION, replySchema } from '../../sdk/protocol-base.js';
import { isLogLine, RequestLedger } from './log-ack.js';

interface Pending {
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

/** A `call` bound to one port, and a way to end it. */
export interface PortCall {
  call: Call;
  /**
   * Resolves once every request the module started has its reply and the module's own continuations have run,
   * including requests those continuations started in turn. A module that forgot `await` loses nothing: its run
   * is reported only after this. A request that never gets a reply keeps it pending until the module's deadline.
   */
  settled(): Promise<void>;
  /**
   * Ends the module's use of the port: requests after this are refused in the worker, pending ones never settle,
   * and replies are no longer read. The port itself stays open for the worker's end notice.
   */
  stop(): void;
}

/**
 * Binds the SDK transport to `port`. Ids are local counters; a reply is matched by id and anything that is not a
 * well-formed reply to a pending request is ignored, so the host cannot be made to resolve the wrong call.
 * A log line main's broker is bound to accept is answered at once (see RequestLedger): the module does not wait
 * for a round trip to main for it, and main still checks, writes and audits it before the module's outcome.
 */
export function createPortCall(port: MessagePort): PortCall {
  const pending = new Map<number, Pending>();
  const ledger = new RequestLedger();
  /** Wakes settled() when the last pending request has its reply. */
  let onIdle: (() => void) | undefined;
  let nextId = 1;
  let closed = false;
  const onReply = (raw: unknown): void => {
    const parsed = replySchema.safeParse(raw);
    if (!parsed.success) return;
    const reply = parsed.data;
    if (!ledger.answered(reply.id)) return;
    const waiter = pending.get(reply.id);
    if (waiter === undefined) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new SdkError(reply.error.code, reply.error.message, reply.error.data ?? {}));
    if (pending.size === 0) onIdle?.();
  };
  port.on('message', onReply);
  const call = <M extends Method>(method: M, params: Params<M>): Promise<Results[M]> =>
    new Promise<Results[M]>((resolve, reject) => {
      if (closed) {
        reject(new SdkError('E_RUN_ENDED', `${method}: the module's run has ended; SDK calls after main() returned are refused`));
        return;
      }
      const id = nextId++;
      // A log line is sent as the two strings checked here, so what the ledger judged is what main receives.
      const line = method === 'log' ? logLineOf(params) : undefined;
      try {
        // postMessage clones the params here, running any getter once; the broker validates that copy.
        port.postMessage({ v: PROTOCOL_VERSION, id, method, params: line ?? params });
      } catch (err) {
        reject(new SdkError('E_BAD_REQUEST', `invalid SDK request ${method}: the arguments cannot be sent (${describe(err)})`));
        return;
      }
      if (ledger.sent(id, line !== undefined)) {
        // The broker's answer to a log line it accepts is null.
        resolve(null as Results[M]);
        return;
      }
      pending.set(id, { resolve, reject });
    });
  return {
    call,
    async settled() {
      for (;;) {
        // The next macrotask turn comes only once the microtask queue is empty: whatever the module chained on
        // its calls has run by then, and may have started more.
        await new Promise((resolve) => setImmediate(resolve));
        if (pending.size === 0) return;
        await new Promise<void>((resolve) => (onIdle = resolve));
        onIdle = undefined;
      }
    },
    stop() {
      closed = true;
      pending.clear();
      onIdle = undefined;
      port.off('message', onReply);
    },
  };
}

/** A log request's params as fresh plain strings, when they make a well-formed line; else undefined. */
function logLineOf(params: unknown): { level: string; message: string } | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const { level, message } = params as { level?: unknown; message?: unknown };
  return isLogLine(level, message) ? { level: level as string, message: message as string } : undefined;
}

function describe(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return 'unprintable error';
  }
}
