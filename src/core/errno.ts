// Reads the errno code of a Node error without a cast at every call site.
/** The `code` of a Node error (`'ENOENT'`, `'ERR_WORKER_OUT_OF_MEMORY'`…), or undefined for anything else. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
