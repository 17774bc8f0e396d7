// Host side of a module's channel: relays each raw request from the worker to the run's broker and posts the reply.
import type { MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import { PROTOCOL_VERSION } from '../../sdk/protocol.js';
import type { JobBroker } from '../wire/task.js';
import { DEFAULTS } from '../../core/defaults.js';

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

/** A relay fed by its caller: `deliver` one raw request; replies go to the `post` it was made with. */
export interface BrokerRelay extends Relay {
  deliver(raw: unknown): void;
  /**
   * Resolves once every request delivered before close() has been handled (acted on or refused), or after
   * DRAIN_TIMEOUT_MS. A run's outcome waits for it, so nothing the module asked for still acts once the
   * orchestrator reports the run over (and, say, rolls the module back).
   */
  drained(): Promise<void>;
}

/** The longest a run's outcome waits for its in-flight requests; broker.close() kills running commands meanwhile. */
const DRAIN_TIMEOUT_MS = DEFAULTS.brokerDrainTimeoutMs;

/**
 * Relays raw requests of one run to its broker and hands each reply to `post`. The relay only relays: the broker
 * validates every request (already a structured clone, made by postMessage or the IPC channel) and builds every
 * reply. After `close()` nothing is delivered or posted, and the broker is closed once.
 */
export function createBrokerRelay(broker: JobBroker, logger: Logger, post: (reply: unknown) => void): BrokerRelay {
  let open = true;
  const inFlight = new Set<Promise<void>>();
  const send = (reply: unknown): void => {
    if (!open) return;
    try {
      post(reply);
    } catch (err) {
      logger.error({ err }, 'sandbox: could not post a broker reply');
    }
  };
  return {
    deliver(raw) {
      if (!open) return;
      const handled = broker.handle(raw).then(send, (err: unknown) => {
        // A broker must answer every request; if it threw instead, the module gets an internal error, not silence.
        logger.error({ err }, 'sandbox: the broker threw while handling a request');
        const id = idOf(raw);
        if (id === undefined) return;
        const message = `internal error: ${err instanceof Error ? err.message : String(err)}. Please report it`;
        send({ v: PROTOCOL_VERSION, id, ok: false, error: { code: 'E_INTERNAL', message } });
      });
      inFlight.add(handled);
      void handled.finally(() => inFlight.delete(handled));
    },
    async drained() {
      if (inFlight.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, DRAIN_TIMEOUT_MS, 'timeout')));
      const result = await Promise.race([Promise.all(inFlight).then(() => 'drained' as const), timeout]);
      clearTimeout(timer);
      if (result === 'timeout') logger.warn({ inFlight: inFlight.size }, 'sandbox: broker requests still running after the run ended');
    },
    close() {
      if (!open) return;
      open = false;
      try {
        broker.close();
      } catch (err) {
        logger.error({ err }, 'sandbox: the broker threw while closing');
      }
    },
  };
}

/**
 * Starts relaying on `port` (in-process isolation). Identity comes from which port a message arrived on, since
 * each run has its own channel and its own broker.
 */
export function startRelay(port: MessagePort, broker: JobBroker, logger: Logger): Relay & Pick<BrokerRelay, 'drained'> {
  const relay = createBrokerRelay(broker, logger, (reply) => port.postMessage(reply));
  port.on('message', (raw: unknown) => relay.deliver(raw));
  return {
    close() {
      try {
        relay.close();
      } finally {
        port.close();
      }
    },
    drained: () => relay.drained(),
  };
}
