/**
 * What a module folder may hold, whether it comes from a commit (Phase 1) or from a folder on disk
 * (`updates validate`): no submodules, nothing under the reserved `.updates`, no symlink out of the folder, sizes
 * within the limits.
 */
import path from 'node:path';
import { DEFAULTS } from './defaults.js';

/** One entry of a module folder, relative to it: a file, or a symlink with its target, or a submodule. */
export interface ContentEntry { rel: string; size: number; submodule?: boolean; linkTarget?: string }

/** Why these files must not be installed, or undefined. */
export function contentProblem(entries: readonly ContentEntry[]): string | undefined {
  let total = 0;
  for (const f of entries) {
    if (f.submodule === true) return `${f.rel} is a git submodule; modules must hold their files`;
    if (f.rel.split('/')[0] === '.updates') return `${f.rel}: the folder .updates is reserved for the orchestrator`;
    if (f.linkTarget !== undefined) {
      const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(f.rel), f.linkTarget));
      if (path.posix.isAbsolute(f.linkTarget) || resolved === '..' || resolved.startsWith('../')) {
        return `${f.rel} is a symlink to "${f.linkTarget}", outside the module's folder`;
      }
    }
    if (f.size > DEFAULTS.maxModuleFileBytes) return `${f.rel} is ${f.size} bytes, over the limit of ${DEFAULTS.maxModuleFileBytes}`;
    total += f.size;
  }
  if (total > DEFAULTS.maxModuleBytes) return `the folder holds ${total} bytes, over the limit of ${DEFAULTS.maxModuleBytes}`;
  return undefined;
}
