// A sandbox of a SIGKILLed orchestrator leaves its memory cgroup and bundle folder; the next pool removes them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { ownMemoryCgroupDir } from '../../src/sandbox/supervisor/cgroup.js';
import { SandboxPool } from '../../src/sandbox/supervisor/pool.js';
import { job } from './helpers.js';

const OK = 'module.exports.main = async () => ({ success: true });';

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(r.stdout.toString().trim());
}

test('leftovers of a dead orchestrator are removed; those of a live one are kept', async () => {
  const dead = deadPid();
  const staleDir = path.join(os.tmpdir(), `updates-sandbox-${dead}-leftover`);
  const liveDir = path.join(os.tmpdir(), `updates-sandbox-${process.ppid}-inuse`);
  mkdirSync(staleDir, { recursive: true });
  mkdirSync(liveDir, { recursive: true });
  const cgroups = await ownMemoryCgroupDir();
  const staleCgroup = cgroups !== undefined ? path.join(cgroups, `updates-sandbox-${dead}-leftover`) : undefined;
  if (staleCgroup !== undefined) mkdirSync(staleCgroup);
  const pool = new SandboxPool({ size: 1, logger: silentLogger(), isolation: 'process' });
  try {
    assert.equal((await pool.run(job('ok', OK))).status, 'ok');
    assert.equal(existsSync(staleDir), false, 'the bundle folder of a dead orchestrator is gone');
    if (staleCgroup !== undefined) assert.equal(existsSync(staleCgroup), false, 'its memory cgroup is gone');
    assert.equal(existsSync(liveDir), true, 'a live orchestrator keeps its folder');
  } finally {
    await pool.destroy();
    rmSync(liveDir, { recursive: true, force: true });
  }
});
