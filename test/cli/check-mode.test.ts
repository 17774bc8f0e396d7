// Check mode through the real CLI: modules run in the sandbox with a broker that plans instead of acting. The
// module really asks for every kind of change (a write over an existing file, a new folder and file, a chmod, a
// command that would leave a marker, a restart); the plan lists each with a diff, and nothing on disk changes.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fingerprint } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runCli } from '../helpers/run.js';
import type { RunReport } from '../../src/orchestrator/report.js';

/** A module whose main() changes a config file, adds a drop-in, tightens a mode, runs a command and restarts. */
function appFiles(version: string, port: number, marker: string): Record<string, string> {
  const capabilities = { paths: [{ path: '/etc/app', access: ['read', 'write', 'chmod'] }], commands: [['touch', marker]], services: ['app'] };
  return {
    'modules/app/index.json': moduleFiles('app', { version, capabilities })['modules/app/index.json'] ?? '',
    'modules/app/index.ts': `import { exec, fs, permissions, run, services } from 'updates-orchestrator/sdk';
import type { ModuleResult } from 'updates-orchestrator/sdk';

export async function main(): Promise<ModuleResult> {
  const changed = await fs.writeFile('/etc/app/app.conf', 'port = ${port}\\nworkers = 4\\n');
  await fs.mkdir('/etc/app/conf.d');
  await fs.writeFile('/etc/app/conf.d/extra.conf', 'x = 1\\n');
  const readBack = await fs.readFile('/etc/app/conf.d/extra.conf');
  await permissions.set([{ path: '/etc/app/app.conf', mode: '600' }]);
  const cmd = await exec(['touch', ${JSON.stringify(marker)}]);
  if (changed) await services.restart('app');
  return { success: true, changed, message: 'check=' + String(run.check) + ' readBack=' + JSON.stringify(readBack) + ' planned=' + String(cmd.planned === true) };
}
`,
  };
}

test('run-module --check --diff prints the diff and the planned restart, and changes nothing on disk', async () => {
  const dir = path.join(tempDir('uo-check-module'), 'app');
  const marker = path.join(tempDir('uo-check-marker'), 'ran');
  const files = appFiles('1.0.0', 8080, marker);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'index.json'), files['modules/app/index.json'] ?? '');
  writeFileSync(path.join(dir, 'index.ts'), files['modules/app/index.ts'] ?? '');
  const conf = path.join(dir, '.updates-dev', 'root', 'etc', 'app', 'app.conf');
  mkdirSync(path.dirname(conf), { recursive: true });
  writeFileSync(conf, 'port = 80\nworkers = 4\n', { mode: 0o644 });
  const scratch = path.join(dir, '.updates-dev', 'root');
  const before = fingerprint(scratch);

  const r = await runCli(['run-module', dir, '--check', '--diff']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^result: .*"message":"check=true readBack=\\"x = 1\\\\n\\" planned=true"/m);
  assert.match(r.stdout, /planned changes \(check mode: nothing was changed\): 6 changes/);
  assert.match(r.stdout, /fs\.writeFile \/etc\/app\/app\.conf: would change \(2 lines\)\n {6}--- a\/etc\/app\/app\.conf\n {6}\+\+\+ b\/etc\/app\/app\.conf\n {6}@@ -1,2 \+1,2 @@\n {6}-port = 80\n {6}\+port = 8080\n {7}workers = 4/);
  assert.match(r.stdout, /fs\.mkdir \/etc\/app\/conf\.d: would create the folder/);
  assert.match(r.stdout, /fs\.writeFile \/etc\/app\/conf\.d\/extra\.conf: would create \(0644, 1 line\)\n {6}--- \/dev\/null\n {6}\+\+\+ b\/etc\/app\/conf\.d\/extra\.conf/);
  assert.match(r.stdout, /permissions\.set \/etc\/app\/app\.conf: would set mode 0644 → 0600/);
  assert.match(r.stdout, new RegExp(`exec touch ${marker.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: would run`));
  assert.match(r.stdout, /services\.restart app: would restart/);

  assert.equal(readFileSync(conf, 'utf8'), 'port = 80\nworkers = 4\n');
  assert.equal(existsSync(marker), false, 'the command must not have run');
  assert.equal(fingerprint(scratch), before, 'nothing under the scratch root may change');
  assert.deepEqual(readdirSync(path.join(dir, '.updates-dev', 'state')), [], 'no store, backup or service record');

  // the same module without --check acts: the plan above was of what really happens
  const real = await runCli(['run-module', dir]);
  assert.equal(real.code, 0, real.stderr);
  assert.equal(readFileSync(conf, 'utf8'), 'port = 8080\nworkers = 4\n');
  assert.equal(existsSync(marker), true);
  assert.match(readFileSync(path.join(dir, '.updates-dev', 'state', 'services.log'), 'utf8'), /"action":"restart","name":"app"/);
});

/** The install root's state and metrics change in a check (its report, its time); nothing else may. */
const outsideState = (rel: string): boolean => /^opt\/updates\/(state|metrics)(\/|$)/.test(rel);

test('run --check --diff plans the repository version of an updated module and the installed one of the others', async () => {
  const sys = tempDir('uo-check-root');
  const root = path.join(sys, 'opt', 'updates');
  const marker = path.join(tempDir('uo-check-marker'), 'ran');
  const repo = makeRepo({
    ...rootIndex(),
    ...appFiles('1.0.0', 80, marker),
    ...moduleFiles('quiet', { version: '1.0.0' }),
  });
  mkdirSync(path.join(sys, 'etc', 'app'), { recursive: true });
  const args = (...extra: string[]) => ['run', '--root', sys, '--modules-path', '/opt/updates', '--repo-url', repo.url, '--services', 'record', '--json', ...extra];
  const first = await runCli(args());
  assert.equal(first.code, 0, first.stderr);
  const conf = path.join(sys, 'etc', 'app', 'app.conf');
  assert.equal(readFileSync(conf, 'utf8'), 'port = 80\nworkers = 4\n');
  const restarts = readFileSync(path.join(root, 'state', 'services.log'), 'utf8');
  repo.commit(appFiles('1.1.0', 8080, marker));
  assert.equal(existsSync(marker), true, "the first run's command ran");
  rmSync(marker); // so the check's command, if it ran, would show
  const before = fingerprint(sys, { skip: outsideState });

  const r = await runCli(args('--check', '--diff'));
  assert.equal(r.code, 100, r.stderr); // updates available
  const report = JSON.parse(r.stdout) as RunReport;
  assert.equal(report.mode, 'check');
  assert.deepEqual(report.updates.map((u) => [u.module, u.status, u.to]), [['app', 'available', '1.1.0']]);
  const app = report.modules.find((m) => m.module === 'app');
  assert.equal(app?.version, '1.1.0', 'the version that would be installed is the one planned');
  assert.match(app?.message ?? '', /^check=true/);
  const write = app?.planned?.find((c) => c.method === 'fs.writeFile' && c.target === '/etc/app/app.conf');
  assert.equal(write?.summary, 'would change (2 lines)');
  assert.match(write?.diff ?? '', /-port = 80\n\+port = 8080\n/);
  assert.ok(app?.planned?.some((c) => c.method === 'services.restart' && c.target === 'app' && c.summary === 'would restart'));
  const quiet = report.modules.find((m) => m.module === 'quiet');
  assert.deepEqual([quiet?.status, quiet?.version, quiet?.planned], ['ok', '1.0.0', []]);

  assert.equal(readFileSync(conf, 'utf8'), 'port = 80\nworkers = 4\n');
  assert.equal(readFileSync(path.join(root, 'state', 'services.log'), 'utf8'), restarts, 'no service was touched');
  assert.equal(existsSync(marker), false, 'the command must not have run');
  assert.equal(fingerprint(sys, { skip: outsideState }), before, 'nothing installed, written or changed');
});
