// Handlers of clock.* and random.bytes: the time, a wait and random bytes, for modules whose compartment has no
// Date.now(), no timers and no Math.random().
// Policy: every module may ask; a sleep is bounded by the protocol (60 s a call), by the broker's in-flight and
// request limits, and ends when the module's run ends.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { UpdatesError } from '../../core/errors.js';
import type { Handler } from './context.js';

/** clock.now: the orchestrator's wall clock. */
export const now: Handler<'clock.now'> = async () => {
  const t = Date.now();
  return { iso: new Date(t).toISOString(), epochMs: t };
};

/** random.bytes: from the operating system's CSPRNG (a module's compartment has no Math.random or crypto). */
export const random: Handler<'random.bytes'> = async (p) => ({ hex: randomBytes(p.bytes).toString('hex') });

/** clock.sleep: resolves after `ms`, or fails with E_RUN_ENDED when the run ends first. */
export const wait: Handler<'clock.sleep'> = async (p, ctx) => {
  try {
    await sleep(p.ms, null, { signal: ctx.signal });
  } catch {
    throw new UpdatesError('E_RUN_ENDED', { method: 'clock.sleep' });
  }
  return null;
};
