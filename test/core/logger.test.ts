// Log lines under systemd: each JSON line starts with its syslog priority, which journald reads; elsewhere the
// lines stay plain JSON. And stderr counts as the journal only when JOURNAL_STREAM names it.
import assert from 'node:assert/strict';
import { fstatSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createLogger, stderrIsJournal } from '../../src/core/logger.js';

function capture(journald: boolean): { lines: () => string[]; log: ReturnType<typeof createLogger> } {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString('utf8')));
  const log = createLogger({ level: 'debug', pretty: false, journald, destination: out });
  return { log, lines: () => text.split('\n').filter((l) => l !== '') };
}

test('under journald each line carries its syslog priority; the JSON after it is intact', () => {
  const { log, lines } = capture(true);
  log.fatal('f');
  log.error('e');
  log.warn('w');
  log.info('i');
  log.debug('d');
  const got = lines().map((l) => {
    const m = /^<(\d)>(\{.*\})$/.exec(l);
    assert.ok(m !== null, `a priority prefix, then JSON: ${l}`);
    return [m[1], (JSON.parse(m[2] ?? '') as { msg: string }).msg];
  });
  assert.deepEqual(got, [['2', 'f'], ['3', 'e'], ['4', 'w'], ['6', 'i'], ['7', 'd']]);
});

test('without journald the lines are plain JSON', () => {
  const { log, lines } = capture(false);
  log.warn('w');
  assert.equal((JSON.parse(lines()[0] ?? '') as { msg: string }).msg, 'w');
});

test('stderr is the journal only when JOURNAL_STREAM names its device and inode', () => {
  const st = fstatSync(2);
  assert.equal(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }), true);
  assert.equal(stderrIsJournal({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` }), false);
  assert.equal(stderrIsJournal({}), false);
});
