// Keeps what is in the way: an entry is renamed to a numbered sibling instead of being deleted.
import { promises as fsp } from 'node:fs';

/** Renames `p` to the first free `<p>.<tag>-<n>` and returns that name. */
export async function moveAside(p: string, tag: string): Promise<string> {
  for (let n = 1; ; n++) {
    const dest = `${p}.${tag}-${n}`;
    if (await fsp.lstat(dest).then(() => false, () => true)) {
      await fsp.rename(p, dest);
      return dest;
    }
  }
}
