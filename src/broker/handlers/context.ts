// The one shape every broker handler has, and what each handler is given.
import type { Logger } from '../../core/logger.js';
import type { Method, Params, Results } from '../../sdk/protocol.js';
import type { BrokerLimits } from '../limits.js';
import type { Planner } from '../planner.js';
import type { Policy } from '../policy.js';
import type { ServiceBackend } from '../services.js';
import type { ModuleStore } from '../store.js';

/** What a handler may use: the policy first, then the means to act. Identity is the broker's, never the request's. */
export interface HandlerContext {
  readonly module: string;
  readonly policy: Policy;
  readonly stateDir: string;
  /** The module's logger (bound to run id and module). */
  readonly logger: Logger;
  readonly services: ServiceBackend;
  readonly limits: Readonly<BrokerLimits>;
  readonly store: ModuleStore;
  /** Aborted when the run ends: long actions (commands) stop. */
  readonly signal: AbortSignal;
  /** Check mode: the run's plan. Handlers that would change something record it there instead (handlers/check.ts). */
  readonly plan?: Planner;
  /** Adds fields to this request's audit line (e.g. exit code, skipped symlinks). */
  note(fields: Record<string, unknown>): void;
}

/** A handler: validated params in, a result of the method's type out; its first line is the policy check. */
export type Handler<M extends Method> = (params: Params<M>, ctx: HandlerContext) => Promise<Results[M]>;
