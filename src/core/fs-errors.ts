// File-system failures an operator can fix (read-only, full, not writable) as catalogue errors naming the path.
import { errnoCode } from './errno.js';
import { UpdatesError } from './errors.js';

/** The catalogue error for a read-only, full or not-writable file system; undefined for any other failure. */
export function fsErrorOf(err: unknown, fallbackPath = 'the install root'): UpdatesError | undefined {
  const code = errnoCode(err);
  const p = (err as { path?: unknown } | null)?.path;
  const details = { path: typeof p === 'string' ? p : fallbackPath, detail: code ?? '' };
  switch (code) {
    case 'EROFS':
      return new UpdatesError('E_FS_READONLY', details, { cause: err });
    case 'ENOSPC':
    case 'EDQUOT':
      return new UpdatesError('E_FS_FULL', details, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new UpdatesError('E_FS_DENIED', details, { cause: err });
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
