// Host side of a module's channel: relays each raw request from the worker to the run's broker and posts the reply.
import type { MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import { PROTOCOL_VERSION } from '../sdk/protocol.js';
import type { JobBroker } from './types.js';

/** The id of a raw request, if it has a usable one (only to address an internal-error reply). */
function idOf(raw: unknown): number | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const id = (raw as { id?: unknown }).id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}

/** A started relay; `close()` stops it. */
export interface Relay {
  close(): void;
}

/**
 * Starts relaying on `port`. The pool only relays: the broker validates every request (the message is already a
 * structured clone, made by postMessage) and builds every reply. Identity comes from which port a message
 * arrived on, since each run has its own channel and its own broker.
 */
export function startRelay(port: MessagePort, broker: JobBroker, logger: Logger): Relay {
  let open = true;
  const post = (reply: unknown): void => {
    if (!open) return;
    try {
      port.postMessage(reply);
    } catch (err) {
      logger.error({ err }, 'sandbox: could not post a broker reply');
    }
  };
  port.on('message', (raw: unknown) => {
    if (!open) return;
    broker.handle(raw).then(post, (err: unknown) => {
      // A broker must answer every request; if it threw instead, the module gets an internal error, not silence.
      logger.error({ err }, 'sandbox: the broker threw while handling a request');
      const id = idOf(raw);
      if (id === undefined) return;
      const message = `internal error: ${err instanceof Error ? err.message : String(err)}. Please report it`;
      post({ v: PROTOCOL_VERSION, id, ok: false, error: { code: 'E_INTERNAL', message } });
    });
  });
  return {
    close() {
      if (!open) return;
      open = false;
      try {
        broker.close();
      } catch (err) {
        logger.error({ err }, 'sandbox: the broker threw while closing');
      } finally {
        port.close();
      }
    },
  };
}
