// A job the sandbox refuses (a deadline that rounds to 0 ms) fails alone: its neighbours in the same sandbox
// process go on, and the process is not killed.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { SandboxPool } from '../../src/sandbox/supervisor/pool.js';
import type { ModuleOutcome } from '../../src/sandbox/supervisor/pool.js';
import { FakeBroker, bundleFixture, job } from './helpers.js';
import { sandboxHosts } from './proc.js';

const pools: SandboxPool[] = [];
after(() => Promise.all(pools.map((p) => p.destroy())));

/** A fake broker whose answers wait for `gate`: the neighbour stays busy until the bad job is settled. */
class GatedBroker extends FakeBroker {
  constructor(private readonly gate: Promise<unknown>) {
    super();
  }

  override async handle(raw: unknown): Promise<unknown> {
    await this.gate;
    return super.handle(raw);
  }
}

test('a job with a 0 ms deadline fails alone; the neighbour running in the same sandbox process finishes ok', async () => {
  const pool = new SandboxPool({ size: 2, logger: silentLogger(), isolation: 'process' });
  pools.push(pool);
  const echo = await bundleFixture('echo');
  let badSettled: (o: ModuleOutcome) => void = () => undefined;
  const badOutcome = new Promise<ModuleOutcome>((resolve) => (badSettled = resolve));
  const neighbour = pool.run(job('neighbour', echo, { args: ['neighbour'], timeoutMs: 60_000, broker: new GatedBroker(badOutcome) }));
  void pool.run(job('degenerate', echo, { args: ['degenerate'], timeoutMs: 0 })).then(badSettled);
  const bad = await badOutcome;
  const hostsBefore = sandboxHosts();
  assert.equal(hostsBefore.length, 1);
  assert.equal(bad.status, 'failed');
  assert.match(bad.error?.message ?? '', /refuses this job: timeoutMs/);
  const good = await neighbour;
  assert.equal(good.status, 'ok', good.error?.message);
  assert.deepEqual(sandboxHosts(), hostsBefore, 'the same sandbox process still runs');
});
