// Maps a module's stack frames back to its own files (index.ts:LINE:COL) through the bundle's inline source map (runs in the worker).
import { SourceMap } from 'node:module';

/** Frames shown at most: the top of the stack is where the error is. */
const MAX_FRAMES = 8;

/** The inline map esbuild appends to a bundle (`sourcemap: 'inline'`). */
const MAP_COMMENT = /\n\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

/**
 * A frame of code evaluated in the compartment: "at NAME (eval at … <anonymous>:LINE:COL)" or "at <anonymous>:LINE:COL".
 * The module's code is the only code that runs there, so these and only these frames are the module's.
 */
const FRAME = /^\s*at (?:(.*?) \()?.*<anonymous>:(\d+):(\d+)\)?$/;

/**
 * The compartment's `Function(params, body)` puts two lines before the body ("function anonymous(params" and
 * ") {"), so bundle line n is reported as line n + 2.
 */
const WRAPPER_LINES = 2;

function mapOf(code: string): SourceMap | undefined {
  const b64 = MAP_COMMENT.exec(code)?.[1];
  if (b64 === undefined) return undefined;
  try {
    return new SourceMap(JSON.parse(Buffer.from(b64, 'base64').toString('utf8')) as ConstructorParameters<typeof SourceMap>[0]);
  } catch {
    return undefined;
  }
}

/**
 * The module's own frames of `stack`, as "index.ts:LINE:COL in NAME", outermost last. Frames the map does not cover
 * are dropped rather than shown as bundle positions the author cannot find. Plain strings: they cross threads.
 */
export function moduleFrames(stack: string, code: string): string[] {
  const map = mapOf(code);
  if (map === undefined) return [];
  const out: string[] = [];
  for (const line of stack.split('\n')) {
    const m = FRAME.exec(line);
    if (m === null) continue;
    const entry = map.findEntry(Number(m[2]) - 1 - WRAPPER_LINES, Number(m[3]) - 1) as Partial<{ originalSource: string; originalLine: number; originalColumn: number }>;
    if (entry.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) continue;
    const where = `${entry.originalSource.replace(/^(\.\/)+/, '')}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    const name = m[1]?.replace(/^(Object|async) /, '');
    out.push(name !== undefined && name !== '' && name !== '<anonymous>' ? `${where} in ${name}` : where);
    if (out.length === MAX_FRAMES) break;
  }
  return out;
}
