/**
 * What a run's sandbox is made with, from the settings and flags: light, so commands/run.ts can start the sandbox
 * process before it loads the run machinery (run-config.ts).
 */
import { underRoot } from '../orchestrator/layout.js';
import type { Phase2Options } from '../orchestrator/phase2.js';
import type { CliOptions } from './args.js';
import type { Settings } from './settings.js';

/** Whether a run of `opts` runs modules (Phase 2, or its check-mode planning), and so needs the sandbox. */
export function runsModules(opts: CliOptions): boolean {
  return !opts.checkOnly || opts.check;
}

/** The sandbox settings Phase 2 and legacy mode share. */
export function sandboxSettings(s: Settings, opts: CliOptions): Phase2Options {
  return {
    services: s.services,
    // the orchestrator's own files outside the install root: no module grant reaches them
    ownFiles: [
      ...(s.localRepo !== undefined ? [underRoot(opts.root, s.localRepo)] : []),
      ...(s.allowedSigners !== undefined ? [s.allowedSigners] : []),
      ...(opts.configFile !== undefined ? [opts.configFile] : []),
    ],
    ...(s.sandboxUser !== undefined ? { sandboxUser: s.sandboxUser } : {}),
    ...(s.sandboxMemoryMb !== undefined ? { sandboxMemoryMb: s.sandboxMemoryMb } : {}),
    ...(s.poolSize !== undefined ? { poolSize: s.poolSize } : {}),
    ...(s.moduleTimeoutSeconds !== undefined ? { moduleTimeoutSeconds: s.moduleTimeoutSeconds } : {}),
  };
}
