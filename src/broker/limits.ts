// The broker's named limits, with defaults taken from the orchestrator's single table of defaults.
import { DEFAULTS } from '../core/defaults.js';

/** Every limit the broker enforces for one module's run. */
export interface BrokerLimits {
  /** Requests one module may have in flight at once. */
  maxInFlight: number;
  /** Requests one module may make in one run (a flood beyond it is refused). */
  maxRequests: number;
  /** Largest file read or written, and largest exec input, in bytes. */
  maxFileBytes: number;
  /** Captured output of a command, per stream, bytes. */
  execMaxOutputBytes: number;
  /** Deadline of a command when the module gives none. */
  execTimeoutMs: number;
  /** Largest module store, bytes of JSON. */
  storeMaxBytes: number;
  /** Backups kept per label. */
  backupsKept: number;
  /** Largest backup, bytes of file content (a sparse file counts at its full size). */
  backupMaxBytes: number;
  /** Largest total of one module's kept backups, bytes. */
  backupTotalBytes: number;
  /** Largest raw SDK request, bytes (strings and binary data counted before any walk of the request). */
  maxRequestBytes: number;
}

/** Fills the limits a caller left out from DEFAULTS. */
export function resolveLimits(partial: Partial<BrokerLimits> = {}): Readonly<BrokerLimits> {
  return Object.freeze({
    maxInFlight: partial.maxInFlight ?? DEFAULTS.brokerMaxInFlight,
    maxRequests: partial.maxRequests ?? DEFAULTS.brokerMaxRequests,
    maxFileBytes: partial.maxFileBytes ?? DEFAULTS.brokerMaxFileBytes,
    execMaxOutputBytes: partial.execMaxOutputBytes ?? DEFAULTS.execMaxOutputBytes,
    execTimeoutMs: partial.execTimeoutMs ?? DEFAULTS.execTimeoutMs,
    storeMaxBytes: partial.storeMaxBytes ?? DEFAULTS.storeMaxBytes,
    backupsKept: partial.backupsKept ?? DEFAULTS.backupsKept,
    backupMaxBytes: partial.backupMaxBytes ?? DEFAULTS.backupMaxBytes,
    backupTotalBytes: partial.backupTotalBytes ?? DEFAULTS.backupTotalBytes,
    maxRequestBytes: partial.maxRequestBytes ?? DEFAULTS.brokerMaxRequestBytes,
  });
}
