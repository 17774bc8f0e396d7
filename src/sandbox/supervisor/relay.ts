// Host side of a module's channel: relays each raw request from the worker to the run's broker and posts the reply.
import type { MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import { PROTOCOL_VERSION } from '../../sdk/protocol.js';
import { isTaskEnded, isTaskStarted } from '../wire/task.js';
import type { TaskEnded } from '../wire/task.js';
import type { JobBroker } from '../wire/task.js';
import { DEFAULTS } from '../../core/defaults.js';

/** The id of a raw request, if it has a usable one (only to address an internal-error reply). */
function idOf(raw: unknown): number | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const id = (raw as { id?: unknown }).id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : undefined;
}

/** The method a raw request names, for a warning (never trusted for anything else). */
function methodOf(raw: unknown): string {
  const method = typeof raw === 'object' && raw !== null ? (raw as { method?: unknown }).method : undefined;
  return typeof method === 'string' ? method.slice(0, 64) : 'unknown';
}

/**
 * Late requests handed to the broker (refused, each with its audit line) and warned about one by one. Past this
 * a flood after the end is only counted, with a warning at every power of ten, so it cannot flood the log.
 */
const MAX_LATE_AUDITED = 20;

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
 * reply. After `close()` the broker is closed once and nothing is posted; a request that still arrives is handed
 * to the closed broker, which refuses it (E_RUN_ENDED) with an audit line, and a warning names the module.
 */
export function createBrokerRelay(broker: JobBroker, logger: Logger, post: (reply: unknown) => void, module = 'unknown'): BrokerRelay {
  let open = true;
  let late = 0;
  const inFlight = new Set<Promise<void>>();
  const refuseLate = (raw: unknown): void => {
    late += 1;
    if (late > MAX_LATE_AUDITED) {
      if (Number.isInteger(Math.log10(late))) {
        logger.warn({ module, late, audit: true, decision: 'denied', code: 'E_RUN_ENDED' }, `module "${module}": ${late} SDK requests arrived after its run ended and were refused`);
      }
      return;
    }
    const more = late === MAX_LATE_AUDITED ? '; further ones are counted, not logged one by one' : '';
    logger.warn({ module, method: methodOf(raw), late }, `module "${module}": an SDK request (${methodOf(raw)}) arrived after its run ended and was refused${more}`);
    broker.handle(raw).catch((err: unknown) => logger.error({ err }, 'sandbox: the broker threw while refusing a late request'));
  };
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
      if (!open) {
        refuseLate(raw);
        return;
      }
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
 * each run has its own channel and its own broker. The worker's TASK_STARTED notice goes to `onStarted`; its end
 * notice resolves `ended` with the run's reply (every request of the run has been delivered by then).
 * After close() the port stays open until the worker's side closes, so a request that still arrives is refused
 * and audited rather than dropped; it is unref'd, so it never keeps the process alive.
 */
export function startRelay(port: MessagePort, broker: JobBroker, logger: Logger, module: string, onStarted: () => void = () => undefined): Relay & Pick<BrokerRelay, 'drained'> & { ended: Promise<TaskEnded> } {
  const relay = createBrokerRelay(broker, logger, (reply) => port.postMessage(reply), module);
  let onEnded: (ended: TaskEnded) => void = () => undefined;
  const ended = new Promise<TaskEnded>((resolve) => (onEnded = resolve));
  port.on('message', (raw: unknown) => {
    if (isTaskStarted(raw)) onStarted();
    else if (isTaskEnded(raw)) onEnded(raw);
    else relay.deliver(raw);
  });
  port.once('close', () => relay.close());
  port.unref();
  return {
    close: () => relay.close(),
    drained: () => relay.drained(),
    ended,
  };
}
