// The sandbox process takes main's usual run messages by their hand-written check, and everything else through
// the schema it loads only then (wire/host.ts): a message the check leaves but the schema accepts still runs, and
// one the schema refuses fails alone, by its id. Talked to over raw IPC, as main would.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, test } from 'node:test';
import { bundleHost } from '../../src/sandbox/supervisor/bundle-host.js';
import type { HostBundle } from '../../src/sandbox/supervisor/bundle-host.js';
import { resolveSandboxUser } from '../../src/sandbox/supervisor/sandbox-user.js';
import { spawnHost } from '../../src/sandbox/supervisor/spawn-host.js';

const started: { child: ChildProcess; bundle: HostBundle }[] = [];
after(async () => {
  for (const { child, bundle } of started) {
    child.kill('SIGKILL');
    await bundle.remove();
  }
});

/** A sandbox process, once it said it is ready, and the messages it sends, as they come. */
async function sandbox(): Promise<{ child: ChildProcess; next: (t: string, id: number) => Promise<Record<string, unknown>> }> {
  const bundle = await bundleHost();
  const child = spawnHost({ bundle, user: await resolveSandboxUser(), size: 1, dataLimitMb: undefined });
  started.push({ child, bundle });
  const received: Record<string, unknown>[] = [];
  const waiting: (() => void)[] = [];
  child.on('message', (m: Record<string, unknown>) => {
    received.push(m);
    for (const w of waiting.splice(0)) w();
  });
  const next = async (t: string, id: number): Promise<Record<string, unknown>> => {
    for (;;) {
      const found = received.find((m) => m['t'] === t && (t === 'ready' || m['id'] === id));
      if (found !== undefined) return found;
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };
  await next('ready', -1);
  return { child, next };
}

const CODE = 'module.exports.main = async () => ({ success: true, message: "ran" });';

function run(id: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { t: 'run', id, module: 'probe', code: CODE, configuration: {}, args: [], check: false, timeoutMs: 60_000, maxMemoryMb: 256, ...over };
}

test('a run message the hand-written check leaves but the schema accepts runs; one the schema refuses fails alone', async () => {
  const { child, next } = await sandbox();
  // `after` present but undefined: the schema's optional key allows it, the hand-written check leaves it.
  child.send(run(1, { after: undefined }));
  const first = await next('settled', 1);
  assert.equal(first['ok'], true, JSON.stringify(first));
  assert.deepEqual(first['reply'], { ok: true, result: { success: true, message: 'ran' } });
  // A deadline of 0 ms: refused by the schema, reported by the job's id.
  child.send(run(2, { timeoutMs: 0 }));
  const refused = await next('settled', 2);
  assert.equal(refused['ok'], false);
  assert.match(String((refused['error'] as { message?: unknown }).message), /the sandbox process refused the job: timeoutMs/);
  // And the process goes on with a usual message.
  child.send(run(3));
  assert.equal((await next('settled', 3))['ok'], true);
});

test('a run that follows only a success, sent once that run has settled, starts after a success and is cancelled after a failure', async () => {
  const { child, next } = await sandbox();
  // Sent after the run before it settled, so the process judges that run's reply itself (with the verdict it
  // loads for this), rather than offering the run to the worker still running it.
  child.send(run(1));
  assert.equal((await next('settled', 1))['ok'], true);
  child.send(run(2, { after: 1, onlyIfOk: true }));
  const second = await next('settled', 2);
  assert.equal(second['ok'], true, JSON.stringify(second));
  child.send(run(3, { code: 'module.exports.main = async () => ({ success: false });' }));
  assert.equal((await next('settled', 3))['ok'], true, 'the worker replied (the module failed)');
  child.send(run(4, { after: 3, onlyIfOk: true }));
  const cancelled = await next('settled', 4);
  assert.equal(cancelled['cancelled'], true, JSON.stringify(cancelled));
});
