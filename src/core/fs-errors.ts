// File-system failures an operator can fix (read-only, full, not writable) as catalogue errors naming the path.
import path from 'node:path';
import { errnoCode } from './errno.js';
import { UpdatesError } from './errors.js';

/**
 * The catalogue error for a read-only, full or not-writable file system; undefined for any other failure.
 * A read-only or full file system is named by the folder that was written in (the file itself is often a
 * temporary name), a denied access by the path itself.
 */
export function fsErrorOf(err: unknown, fallbackPath = 'the install root'): UpdatesError | undefined {
  const code = errnoCode(err);
  const p = (err as { path?: unknown } | null)?.path;
  const where = typeof p === 'string' ? p : fallbackPath;
  const folder = typeof p === 'string' ? path.dirname(p) : fallbackPath;
  switch (code) {
    case 'EROFS':
      return new UpdatesError('E_FS_READONLY', { path: folder, detail: code }, { cause: err });
    case 'ENOSPC':
    case 'EDQUOT':
      return new UpdatesError('E_FS_FULL', { path: folder, detail: code }, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new UpdatesError('E_FS_DENIED', { path: where, detail: code }, { cause: err });
    default:
      return undefined;
  }
}

/** Rethrows a file-system failure as its catalogue error (or as it was). */
export function rethrowFs(fallbackPath?: string): (err: unknown) => never {
  return (err: unknown) => {
    throw fsErrorOf(err, fallbackPath) ?? err;
  };
}
