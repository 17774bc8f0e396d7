// Handlers of fs.readFile, fs.writeFile, fs.mkdir, fs.remove and fs.exists, each through one descriptor walk.
import { UpdatesError } from '../../core/errors.js';
import { mkdirPath, readAt, writeAt } from '../fd-ops.js';
import { removeEntry } from '../fd-tree.js';
import { FdWalk } from '../fd-walk.js';
import type { Entry } from '../fd-walk.js';
import type { Params } from '../../sdk/protocol.js';
import type { CheckedPath } from '../paths.js';
import type { Handler, HandlerContext } from './context.js';

/** fs.readFile: a regular file of one name under a "read" grant, at most maxFileBytes, as UTF-8. */
export const readFile: Handler<'fs.readFile'> = async (p, ctx) => {
  const target = ctx.policy.checkPath('fs.readFile', p.path, 'read');
  return FdWalk.with(target, 'fs.readFile', ctx.signal, async (w) => {
    const data = await readAt(w, await w.resolve({ follow: true }), ctx.limits.maxFileBytes);
    return { content: data.toString('utf8') };
  });
};

interface OldFile {
  mode: number;
  uid: number;
  gid: number;
  same: boolean;
}

/** The file being replaced: its owner and mode (kept), and whether it already holds `bytes` (read only if one name). */
async function oldFile(w: FdWalk, e: Entry, bytes: Buffer, max: number): Promise<OldFile | undefined> {
  const st = e.stat;
  if (st === undefined) return undefined;
  if (!st.isFile()) {
    const kind = st.isDirectory() ? 'a directory' : 'a FIFO, socket or device';
    throw new UpdatesError('E_IO', { method: 'fs.writeFile', detail: `${e.view} is ${kind}` });
  }
  // a different size cannot be the same content, so only a same-size file of one name is read
  const same = st.nlink === 1 && st.size === bytes.length && (await readAt(w, e, max)).equals(bytes);
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, same };
}

/**
 * fs.writeFile: atomic (temp + fsync + rename in the verified folder). Keeps the old file's owner and mode unless
 * a mode is given (special bits only where the grant allows them). Reports changed=false, and writes nothing,
 * when content and mode are already as asked.
 */
/** The policy checks of an fs.writeFile, shared with check mode: the path, the mode, the content's size. */
export function checkWrite(p: Params<'fs.writeFile'>, ctx: HandlerContext): { target: CheckedPath; mode: number | undefined; bytes: Buffer } {
  const target = ctx.policy.checkPath('fs.writeFile', p.path, 'write');
  const mode = p.mode === undefined ? undefined : ctx.policy.checkMode('fs.writeFile', target, p.mode);
  const bytes = Buffer.from(p.content, 'utf8');
  if (bytes.length > ctx.limits.maxFileBytes) {
    throw new UpdatesError('E_LIMIT', { method: 'fs.writeFile', detail: `content of ${bytes.length} bytes is more than the limit of ${ctx.limits.maxFileBytes}` });
  }
  return { target, mode, bytes };
}

export const writeFile: Handler<'fs.writeFile'> = async (p, ctx) => {
  const { target, mode, bytes } = checkWrite(p, ctx);
  return FdWalk.with(target, 'fs.writeFile', ctx.signal, async (w) => {
    const e = await w.resolve({ follow: true });
    const old = await oldFile(w, e, bytes, ctx.limits.maxFileBytes);
    if (old !== undefined && old.same && (mode === undefined || mode === old.mode)) return { changed: false };
    const attrs = old === undefined ? { mode: mode ?? 0o644 } : { mode: mode ?? old.mode, uid: old.uid, gid: old.gid };
    await writeAt(w, e, bytes, attrs);
    return { changed: true };
  });
};

/** fs.mkdir: mkdir -p inside a "write" grant; never creates folders above the grant root. */
export const mkdir: Handler<'fs.mkdir'> = async (p, ctx) => {
  const target = ctx.policy.checkPath('fs.mkdir', p.path, 'write');
  const mode = p.mode === undefined ? undefined : ctx.policy.checkMode('fs.mkdir', target, p.mode);
  return { created: await FdWalk.with(target, 'fs.mkdir', ctx.signal, (w) => mkdirPath(w, mode)) };
};

/** Whether an error is "no such file": remove and exists answer false to it. */
export const isNotFound = (err: unknown): boolean => err instanceof UpdatesError && err.code === 'E_NOT_FOUND';

/** fs.remove: a file, symlink (itself) or tree under a "write" grant; never the grant root. */
export const remove: Handler<'fs.remove'> = async (p, ctx) => {
  const target = ctx.policy.checkPath('fs.remove', p.path, 'write');
  try {
    return await FdWalk.with(target, 'fs.remove', ctx.signal, async (w) => ({ removed: await removeEntry(w, await w.resolve({ follow: false, allowRoot: false })) }));
  } catch (err) {
    if (isNotFound(err)) return { removed: false };
    throw err;
  }
};

/** fs.exists: under a "read" grant; a symlink counts when it resolves inside the grant. */
export const exists: Handler<'fs.exists'> = async (p, ctx) => {
  const target = ctx.policy.checkPath('fs.exists', p.path, 'read');
  try {
    return await FdWalk.with(target, 'fs.exists', ctx.signal, async (w) => ({ exists: (await w.resolve({ follow: true })).stat !== undefined }));
  } catch (err) {
    if (isNotFound(err)) return { exists: false };
    throw err;
  }
};
