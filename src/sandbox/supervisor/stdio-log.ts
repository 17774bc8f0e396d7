// Forwards what the sandbox process prints (V8 fatal errors, crashes) to main's logger, bounded.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';

/** Lines logged per process and stream; past this, output is read and dropped so the process never blocks. */
const MAX_LINES = 50;
/** Longest line logged, characters. */
const MAX_LINE = 1000;

/** Logs each line the process writes to stdout or stderr at warn level (modules have no console: it is news). */
export function pipeLines(child: ChildProcess, logger: Logger): void {
  for (const [name, stream] of [['stdout', child.stdout], ['stderr', child.stderr]] as const) {
    if (stream === null) continue;
    let lines = 0;
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      if (++lines > MAX_LINES) return;
      logger.warn({ stream: name }, `sandbox process: ${line.slice(0, MAX_LINE)}`);
    });
  }
}
