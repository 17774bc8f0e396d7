/** The running orchestrator's own version, from its package.json (the root index.json's schema_version). */
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function orchestratorVersion(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    cached = pkg.version;
  }
  return cached;
}
