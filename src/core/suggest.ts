/**
 * "Did you mean …?" for a mistyped name (a config key, a command, a manifest field): the closest candidate by
 * edit distance, when it is close enough to be a likely typo.
 */

/** Levenshtein distance between two strings, case-insensitive. */
function distance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[t.length] ?? 0;
}

/**
 * The candidate closest to `input`, or undefined when none is close: at most a third of the input's length
 * (at least 1, at most 3) edits away, or one that differs only by `-` versus `_` or case.
 */
export function didYouMean(input: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/-/g, '_');
  const exactish = candidates.find((c) => norm(c) === norm(input));
  if (exactish !== undefined) return exactish;
  const limit = Math.min(3, Math.max(1, Math.floor(input.length / 3)));
  let best: { name: string; d: number } | undefined;
  for (const c of candidates) {
    const d = distance(input, c);
    if (d <= limit && (best === undefined || d < best.d)) best = { name: c, d };
  }
  return best?.name;
}
