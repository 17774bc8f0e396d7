// The process exit codes every entry point uses (CLI, legacy mode, migrate); bin/updates.js lists the same set.
/**
 * 0 done, 1 something failed, 2 usage or configuration, 75 lock held (EX_TEMPFAIL), 100 updates available (check),
 * 130 interrupted by SIGINT, 143 by SIGTERM (the run's report says `interrupted`).
 */
export const EXIT = Object.freeze({ OK: 0, FAILED: 1, USAGE: 2, LOCKED: 75, UPDATES_AVAILABLE: 100, INTERRUPTED: 130, TERMINATED: 143 });
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
