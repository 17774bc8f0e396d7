/** Writes docs/errors.md from the error catalogue: `npm run docs:errors`. */
import { writeFileSync } from 'node:fs';
import { errorTable } from '../src/core/error-table.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), errorTable());
console.log('wrote docs/errors.md');
