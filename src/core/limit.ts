// Bulk file operations run with a bounded number of files open at once, so a module or release of ten
// thousand files installs under the usual 1024 open-file limit of a systemd service.
import { DEFAULTS } from './defaults.js';

/** Runs `fn` over `items`, at most `limit` at once; rejects with the first failure once the started ones end. */
export async function mapLimit<T>(items: readonly T[], fn: (item: T) => Promise<void>, limit: number = DEFAULTS.openFilesAtOnce): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failure !== undefined) throw failure.err;
}
