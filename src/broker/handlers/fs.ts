// Handlers of fs.readFile, fs.writeFile, fs.mkdir, fs.remove and fs.exists.
import { UpdatesError } from '../../core/errors.js';
import { lstatChecked, readChecked, writeAtomicChecked } from '../fs-ops.js';
import { mkdirChecked, removeChecked } from '../fs-tree.js';
import type { CheckedPath } from '../paths.js';
import type { Handler } from './context.js';

/** fs.readFile: a regular file under a "read" grant, at most maxFileBytes, as UTF-8. */
export const readFile: Handler<'fs.readFile'> = async (p, ctx) => {
  const target = await ctx.policy.checkPath('fs.readFile', p.path, 'read');
  const { data } = await readChecked(target, ctx.limits.maxFileBytes, 'fs.readFile');
  return { content: data.toString('utf8') };
};

interface OldFile {
  mode: number;
  uid: number;
  gid: number;
  same: boolean;
}

/** The file being replaced: its owner and mode (kept), and whether it already holds `bytes`. */
async function oldFile(target: CheckedPath, bytes: Buffer, max: number): Promise<OldFile | undefined> {
  const st = await lstatChecked(target);
  if (st === undefined) return undefined;
  // a different size cannot be the same content, so only a same-size regular file is read
  const same = st.isFile() && st.size === bytes.length && (await readChecked(target, max, 'fs.writeFile')).data.equals(bytes);
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, same };
}

/**
 * fs.writeFile: atomic (temp + fsync + rename). Keeps the old file's owner and mode unless a mode is given
 * (special bits only where the grant allows them). Reports changed=false, and writes nothing, when content
 * and mode are already as asked.
 */
export const writeFile: Handler<'fs.writeFile'> = async (p, ctx) => {
  const target = await ctx.policy.checkPath('fs.writeFile', p.path, 'write');
  const mode = p.mode === undefined ? undefined : ctx.policy.checkMode('fs.writeFile', target, p.mode);
  const bytes = Buffer.from(p.content, 'utf8');
  if (bytes.length > ctx.limits.maxFileBytes) {
    throw new UpdatesError('E_LIMIT', { method: 'fs.writeFile', detail: `content of ${bytes.length} bytes is more than the limit of ${ctx.limits.maxFileBytes}` });
  }
  const old = await oldFile(target, bytes, ctx.limits.maxFileBytes);
  if (old !== undefined && old.same && (mode === undefined || mode === old.mode)) return { changed: false };
  const attrs = old === undefined ? { mode: mode ?? 0o644 } : { mode: mode ?? old.mode, uid: old.uid, gid: old.gid };
  await writeAtomicChecked(target, bytes, attrs, 'fs.writeFile');
  return { changed: true };
};

/** fs.mkdir: mkdir -p inside a "write" grant; never creates folders above the grant root. */
export const mkdir: Handler<'fs.mkdir'> = async (p, ctx) => {
  const target = await ctx.policy.checkPath('fs.mkdir', p.path, 'write');
  const mode = p.mode === undefined ? undefined : ctx.policy.checkMode('fs.mkdir', target, p.mode);
  return { created: await mkdirChecked(target, mode, 'fs.mkdir') };
};

/** fs.remove: a file, symlink (itself) or tree under a "write" grant; never the grant root. */
export const remove: Handler<'fs.remove'> = async (p, ctx) => {
  const target = await ctx.policy.checkPath('fs.remove', p.path, 'write', { follow: false, allowRoot: false });
  return { removed: await removeChecked(target, 'fs.remove') };
};

/** fs.exists: under a "read" grant. */
export const exists: Handler<'fs.exists'> = async (p, ctx) => {
  const target = await ctx.policy.checkPath('fs.exists', p.path, 'read');
  return { exists: (await lstatChecked(target)) !== undefined };
};
