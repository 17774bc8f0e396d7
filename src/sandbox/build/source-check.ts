// Checks a bundle's text for what the SES compartment would refuse at run time, so the author learns it at build time.
import { SDK_SPECIFIER } from './import-policy.js';

interface Rule {
  pattern: RegExp;
  why: string;
}

/**
 * The same conservative text patterns SES applies before it evaluates code (ses/src/transforms.js), plus a
 * `require()` of anything but the literal SDK specifier. They can match inside a string or comment too; SES
 * would refuse that code all the same, so the build says so with the line instead of a puzzling run-time error.
 */
const RULES: readonly Rule[] = [
  {
    pattern: /(^|[^.]|\.\.\.)\bimport(\s*(?:\(|\/[/*]))/,
    why: `dynamic import() is not allowed (the text "import(" is refused even inside a string); import '${SDK_SPECIFIER}' statically`,
  },
  { pattern: /(?:<!--|-->)/, why: 'the text "<!--" or "-->" is refused by the sandbox (HTML-like comment), even inside a string' },
  { pattern: /(^|[^.])\beval(\s*\()/, why: 'direct eval() is not allowed; indirect (0, eval)(src) evaluates inside the sandbox only' },
  {
    pattern: new RegExp(`\\brequire\\s*\\((?!"${SDK_SPECIFIER.replace('/', '\\/')}"\\))`),
    why: `require() of anything but '${SDK_SPECIFIER}' is not allowed`,
  },
];

/** esbuild marks where each source file starts in a bundle with a `// path` comment line. */
const FILE_MARKER = /^\/\/ (\S+\.(?:ts|tsx|js|jsx|mjs|cjs|mts|cts|json))$/gm;

/** The source file a bundle offset came from, by the last file marker before it. */
function fileAt(bundle: string, offset: number): string {
  let file = '(bundle)';
  for (const marker of bundle.matchAll(FILE_MARKER)) {
    if ((marker.index ?? 0) > offset) break;
    file = marker[1] ?? file;
  }
  return file;
}

/**
 * Returns a description of the first refused construct ("file (bundle line n): why: text"), or undefined if
 * the bundle is clean. Patterns run over the whole text, as SES does, so `import\n(` is caught too.
 */
export function findRefusedSource(bundle: string): string | undefined {
  let first: { offset: number; why: string } | undefined;
  for (const rule of RULES) {
    const match = rule.pattern.exec(bundle);
    if (match === null) continue;
    // Skip the one-character prefix some patterns capture to rule out `.import(`/`.eval(`.
    const offset = match.index + (match[1]?.length ?? 0);
    if (first === undefined || offset < first.offset) first = { offset, why: rule.why };
  }
  if (first === undefined) return undefined;
  const lineStart = bundle.lastIndexOf('\n', first.offset) + 1;
  const lineEnd = bundle.indexOf('\n', first.offset);
  const text = bundle.slice(lineStart, lineEnd === -1 ? undefined : lineEnd).trim().slice(0, 120);
  const line = bundle.slice(0, first.offset).split('\n').length;
  return `${fileAt(bundle, first.offset)} (bundle line ${line}): ${first.why}: ${text}`;
}
