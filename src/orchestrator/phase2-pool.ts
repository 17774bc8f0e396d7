/**
 * The sandbox pool of a run's Phase 2, as its options configure it. Kept apart from phase2.ts (the broker, the
 * installs) so that the CLI can start the sandbox process before it loads the rest of the run machinery.
 */
import { DEFAULTS } from '../core/defaults.js';
import type { Logger } from '../core/logger.js';
import { SandboxPool } from '../sandbox/supervisor/pool.js';
import type { Phase2Options } from './phase2.js';

/** A new sandbox pool as `options` configure it; `logger` is the run's (its lines get `zone: sandbox`). */
export function poolOf(options: Phase2Options, logger: Logger): SandboxPool {
  return new SandboxPool({
    size: options.poolSize ?? DEFAULTS.poolSize,
    logger: logger.child({ zone: 'sandbox' }),
    ...(options.sandboxUser !== undefined ? { user: options.sandboxUser } : {}),
    ...(options.sandboxMemoryMb !== undefined ? { memoryLimitMb: options.sandboxMemoryMb } : {}),
  });
}
