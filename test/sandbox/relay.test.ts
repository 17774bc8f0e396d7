// The relay between a run's port and its broker: a request that arrives after the run ended is refused and
// audited, with a warning naming the module; it is never dropped silently.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import pino from 'pino';
import { startRelay } from '../../src/sandbox/supervisor/relay.js';
import { audited, makeHarness } from '../broker/harness.js';
import type { Harness, LogLine } from '../broker/harness.js';

let h: Harness | undefined;
after(() => h?.cleanup());

test('a request arriving after the run ended is refused with E_RUN_ENDED, audited, and warned about by module name', async () => {
  h = await makeHarness({}, { module: 'latecomer' });
  const warnings: LogLine[] = [];
  let warned: (line: LogLine) => void = () => undefined;
  const firstWarning = new Promise<LogLine>((resolve) => (warned = resolve));
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) {
        if (l.trim() === '') continue;
        const line = JSON.parse(l) as LogLine;
        warnings.push(line);
        warned(line);
      }
      done();
    },
  });
  const { port1, port2 } = new MessageChannel();
  const relay = startRelay(port1, h.broker, pino({ level: 'warn', base: null }, sink), 'latecomer');
  relay.close();
  // The relay unrefs its port (it must never keep an orchestrator alive); this test's loop waits on it.
  port1.ref();
  port2.postMessage({ v: 1, id: 1, method: 'log', params: { level: 'info', message: 'too late' } });
  const warning = await firstWarning;
  assert.equal(warning['module'], 'latecomer');
  assert.match(String(warning['msg']), /module "latecomer": an SDK request \(log\) arrived after its run ended and was refused/);
  audited(h.lines, { method: 'log', decision: 'denied', code: 'E_RUN_ENDED' });
  port1.close();
});
