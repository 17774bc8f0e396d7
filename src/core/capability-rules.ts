/**
 * Small named rules over a module's parsed capabilities, applied after the schema (Phase 1 and `updates validate`
 * alike): declarations that parse but cannot mean what their author meant.
 */
import type { Capabilities } from './manifest.js';

type Rule = (c: Capabilities) => string[];

/** A path granted twice: only the first entry's owners and flags would ever apply, so the two must be merged. */
const noPathTwice: Rule = (c) => {
  const seen = new Map<string, number>();
  const out: string[] = [];
  c.paths.forEach((g, i) => {
    const first = seen.get(g.path);
    if (first !== undefined) out.push(`capabilities.paths.${i}: ${g.path} is already granted by capabilities.paths.${first}; merge the two entries`);
    else seen.set(g.path, i);
  });
  return out;
};

/** Owners or groups listed on a path without "chown" access: nothing could ever set them. */
const ownersNeedChown: Rule = (c) =>
  c.paths.flatMap((g, i) =>
    (g.owners.length > 0 || g.groups.length > 0) && !g.access.includes('chown')
      ? [`capabilities.paths.${i}: ${g.path} lists owners or groups but its access has no "chown"; add "chown" or drop the lists`]
      : [],
  );

/** setuid/setgid/sticky allowed where no mode can be set. */
const specialBitsNeedMode: Rule = (c) =>
  c.paths.flatMap((g, i) =>
    g.allow_special_bits && !g.access.includes('chmod') && !g.access.includes('write')
      ? [`capabilities.paths.${i}: ${g.path} sets allow_special_bits but its access has neither "chmod" nor "write"`]
      : [],
  );

const RULES: readonly Rule[] = [noPathTwice, ownersNeedChown, specialBitsNeedMode];

/** Every problem of the capabilities, one message each; empty when they make sense. */
export function capabilityProblems(c: Capabilities): string[] {
  return RULES.flatMap((rule) => rule(c));
}
