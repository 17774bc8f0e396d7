// exec: exact declared argv only, no shell, capped output, and a deadline that kills the whole process group.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, constants, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/repo.js';
import { audited, err, makeHarness, ok } from './harness.js';
import type { Harness } from './harness.js';
import type { ExecResult } from '../../src/sdk/protocol.js';

const MARK = `broker-exec-test-${randomUUID()}`;
/** Each of the tree's two grandchildren writes a line here once it runs, so a test waits on that, not on time. */
const FIFO = path.join(tempDir('uo-exec'), 'up');
const TREE = ['/bin/sh', '-c', `sh -c 'echo up >${FIFO}; sleep 30; :' ${MARK} & sh -c 'echo up >${FIFO}; sleep 30; :' ${MARK}; :`];

/**
 * Opens FIFO for reading (read-write and non-blocking, so neither this open nor a writer's ever waits) and resolves
 * once both grandchildren of TREE have said they run.
 */
function treeUp(): { up: Promise<void>; close: () => void } {
  const sock = new net.Socket({ fd: openSync(FIFO, constants.O_RDWR | constants.O_NONBLOCK), readable: true, writable: false });
  let text = '';
  const up = new Promise<void>((resolve) => {
    sock.on('data', (d: Buffer) => {
      text += d.toString();
      if (text.split('up\n').length > 2) resolve();
    });
  });
  return { up, close: () => sock.destroy() };
}

function running(marker: string): boolean {
  return spawnSync('pgrep', ['-f', marker]).status === 0;
}

describe('exec', () => {
  let h: Harness;
  before(async () => {
    chmodSync(path.dirname(FIFO), 0o755);
    assert.equal(spawnSync('mkfifo', ['-m', '666', FIFO]).status, 0, 'mkfifo');
    h = await makeHarness({
      commands: [['/bin/echo', 'hi'], ['/bin/cat'], ['/bin/sh', '-c', 'env'], ['/bin/sh', '-c', 'head -c 100000 /dev/zero'], TREE, ['/nonexistent/bin']],
    }, { limits: { execMaxOutputBytes: 1000 } });
  });
  after(() => h.cleanup());

  it('runs a declared command and returns its output', async () => {
    assert.deepEqual(ok(await h.call('exec', { argv: ['/bin/echo', 'hi'] })), { exitCode: 0, stdout: 'hi\n', stderr: '', timedOut: false });
    audited(h.lines, { method: 'exec', decision: 'allowed', argv: ['/bin/echo', 'hi'], exitCode: 0 });
  });

  it('feeds input on stdin and gives the command only a PATH', async () => {
    assert.equal(ok<ExecResult>(await h.call('exec', { argv: ['/bin/cat'], input: 'piped' })).stdout, 'piped');
    const env = ok<ExecResult>(await h.call('exec', { argv: ['/bin/sh', '-c', 'env'] })).stdout;
    assert.ok(!env.includes('NODE_OPTIONS') && !env.includes('HOME='), env);
  });

  it('caps captured output', async () => {
    const res = ok<ExecResult>(await h.call('exec', { argv: ['/bin/sh', '-c', 'head -c 100000 /dev/zero'] }));
    assert.equal(res.stdout.length, 1000);
    audited(h.lines, { method: 'exec', decision: 'allowed', truncated: true });
  });

  it('refuses undeclared commands, extra or changed arguments, and NUL bytes', async () => {
    err(await h.call('exec', { argv: ['/bin/rm', '-rf', '/'] }), 'E_UNDECLARED_COMMAND');
    err(await h.call('exec', { argv: ['/bin/echo', 'hi', '; rm -rf /'] }), 'E_UNDECLARED_COMMAND');
    err(await h.call('exec', { argv: ['/bin/echo', 'ho'] }), 'E_UNDECLARED_COMMAND');
    err(await h.call('exec', { argv: ['/bin/echo'] }), 'E_UNDECLARED_COMMAND');
    err(await h.call('exec', { argv: ['/bin/echo hi'] }), 'E_UNDECLARED_COMMAND');
    err(await h.call('exec', { argv: ['/bin/echo', 'hi\0--help'] }), 'E_BAD_REQUEST');
    err(await h.call('exec', { argv: ['/bin/echo', 'hi'], env: { LD_PRELOAD: '/tmp/x.so' } }), 'E_BAD_REQUEST');
    audited(h.lines, { method: 'exec', decision: 'denied', code: 'E_UNDECLARED_COMMAND', argv: ['/bin/echo', 'hi', '; rm -rf /'] });
  });

  it('reports a command that cannot start as E_IO', async () => {
    err(await h.call('exec', { argv: ['/nonexistent/bin'] }), 'E_IO');
  });

  it('kills the whole process group at the deadline: nothing is left behind', async () => {
    const tree = treeUp();
    try {
      const pending = h.call('exec', { argv: TREE, timeoutMs: 3000 });
      // Both grandchildren must be running before the deadline, or the test would prove nothing.
      const first = await Promise.race([tree.up.then(() => 'up' as const), pending.then(() => 'ended' as const)]);
      assert.equal(first, 'up', 'the whole process tree was running before the deadline');
      assert.ok(running(MARK), 'the process tree is running');
      const res = ok<ExecResult>(await pending);
      assert.equal(res.timedOut, true);
      assert.notEqual(res.exitCode, 0);
      assert.equal(running(MARK), false, 'no process of the group survived');
      audited(h.lines, { method: 'exec', decision: 'allowed', timedOut: true });
    } finally {
      tree.close();
    }
  });

  it('kills a running command when the run ends', async () => {
    const h2 = await makeHarness({ commands: [TREE] });
    const tree = treeUp();
    try {
      const pending = h2.call('exec', { argv: TREE, timeoutMs: 60_000 });
      await tree.up;
      assert.ok(running(MARK), 'the process tree is running');
      h2.broker.close();
      const res = ok<ExecResult>(await pending);
      assert.notEqual(res.exitCode, 0);
      assert.equal(running(MARK), false);
    } finally {
      tree.close();
      await h2.cleanup();
    }
  });
});
