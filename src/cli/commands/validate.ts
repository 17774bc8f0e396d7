/** `updates validate [DIR...]`: Phase 1's checks on module folders on disk, one line per module, exit 1 on any problem. */
import { EXIT } from '../../core/exit-codes.js';
import type { Command } from '../command.js';
import { defaultDirs, formatValidation, validateModule } from '../validate.js';
import type { Validation } from '../validate.js';

export const command: Command = async ({ opts }) => {
  const dirs = opts.dirs !== undefined && opts.dirs.length > 0 ? opts.dirs : await defaultDirs(process.cwd());
  const results: Validation[] = [];
  // One at a time: each bundles with esbuild, and the lines come out in the order given.
  for (const dir of dirs) {
    const v = await validateModule(dir);
    results.push(v);
    if (!opts.json) process.stdout.write(`${formatValidation(v)}\n`);
  }
  if (opts.json) process.stdout.write(`${JSON.stringify({ modules: results }, null, 2)}\n`);
  return results.every((v) => v.ok) ? EXIT.OK : EXIT.FAILED;
};
