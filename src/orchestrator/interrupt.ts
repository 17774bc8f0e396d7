/**
 * SIGTERM and SIGINT during a run. The CLI's run takes them (performRun with handleSignals): the run stops what
 * it started (the sandbox and its modules' commands, registered with onInterrupt), writes its report with status
 * `interrupted`, and the process exits 143 (SIGTERM) or 130 (SIGINT). Everything a run does on disk is safe to
 * stop at any point (the next run repairs it), so stopping needs no more than that.
 *
 * While a run has handed over to a re-executed release, a handler pushed on top forwards the signal to it
 * instead, and the run waits for it.
 */
import { EXIT } from '../core/exit-codes.js';

export type StopSignal = 'SIGTERM' | 'SIGINT';
const SIGNALS: readonly StopSignal[] = ['SIGTERM', 'SIGINT'];

const handlers: ((signal: StopSignal) => void)[] = [];
const cleanups = new Set<() => unknown>();
let stoppedBy: StopSignal | undefined;

const dispatch = (signal: StopSignal): void => handlers.at(-1)?.(signal);

/** Routes SIGTERM and SIGINT to `handler` (the latest pushed wins) until the returned function is called. */
export function pushSignalHandler(handler: (signal: StopSignal) => void): () => void {
  if (handlers.length === 0) for (const s of SIGNALS) process.on(s, dispatch);
  handlers.push(handler);
  return () => {
    const at = handlers.lastIndexOf(handler);
    if (at !== -1) handlers.splice(at, 1);
    if (handlers.length === 0) for (const s of SIGNALS) process.removeListener(s, dispatch);
  };
}

/** Registers something to stop when the run is interrupted (a sandbox, a module's broker); returns its removal. */
export function onInterrupt(stop: () => unknown): () => void {
  cleanups.add(stop);
  return () => cleanups.delete(stop);
}

/** Marks this process's run as interrupted and stops everything registered, waiting at most `timeoutMs`. */
export async function interrupt(signal: StopSignal, timeoutMs: number): Promise<void> {
  stoppedBy ??= signal;
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
  const stops = Promise.allSettled([...cleanups].map(async (stop) => stop()));
  await Promise.race([stops, bound]);
  clearTimeout(timer);
}

/** The signal that interrupted this process's run, if one did: work still running then must not start more. */
export function interruptedBy(): StopSignal | undefined {
  return stoppedBy;
}

/** The exit code of a run interrupted by `signal`: 128 + its number, as a shell reports it. */
export function exitCodeOfSignal(signal: StopSignal): number {
  return signal === 'SIGINT' ? EXIT.INTERRUPTED : EXIT.TERMINATED;
}
