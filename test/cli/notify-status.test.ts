// A failing update through the real `updates` command: it is rolled back, the notify command gets the run's
// report on stdin, status tells the story (live version, held version and its message), history lists every run.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { HistoryEntry } from '../../src/orchestrator/history.js';
import type { RunReport } from '../../src/orchestrator/report.js';
import type { Status } from '../../src/cli/status.js';
import { liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runCli } from '../helpers/run.js';

const base = (root: string, url: string) => ['--modules-path', root, '--repo-url', url, '--services', 'record'];

/** A notify command that saves its stdin and its environment's recap, one file per call. */
function recorder(dir: string): string[] {
  return ['/bin/sh', '-c', 'n=$(ls "$0" | wc -l); cat > "$0/report-$n.json"; printf %s "$UPDATES_RECAP" > "$0/recap-$n.txt"', dir];
}

test('a failing update: rolled back, the notify command gets the report, status and history tell the story', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }), ...moduleFiles('db', { version: '2.0.0' }) });
  const root = tempDir();
  const inbox = tempDir('uo-inbox');
  writeFileSync(path.join(root, 'config.json'), JSON.stringify({ notify_command: recorder(inbox) }));

  const first = await runCli(base(root, repo.url));
  assert.equal(first.code, 0, first.stderr);
  assert.equal(existsSync(path.join(inbox, 'report-0.json')), false, 'notify_on defaults to failure: a good run sends nothing');

  repo.commit(moduleFiles('web', { version: '1.1.0', body: "return { success: false, message: 'the new TLS setup does not start' };" }));
  const failing = await runCli(base(root, repo.url));
  assert.equal(failing.code, 1, failing.stderr);
  assert.equal(liveVersions(root)['web'], '1.0.0', 'rolled back');
  const sent = JSON.parse(readFileSync(path.join(inbox, 'report-0.json'), 'utf8')) as RunReport;
  assert.deepEqual(sent, JSON.parse(readFileSync(path.join(root, 'state', 'last-run.json'), 'utf8')), 'the notify command got the run report');
  assert.equal(sent.exitCode, 1);
  assert.equal(sent.updates.find((u) => u.module === 'web')?.status, 'rolled-back');
  assert.equal(readFileSync(path.join(inbox, 'recap-0.txt'), 'utf8'), 'ok=1 changed=0 failed=1 held=1');
  assert.match(failing.stderr, /notify command .* notified/);

  const text = await runCli(['status', '--modules-path', root]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /last run: .*exit 1, ok=1 changed=0 failed=1 held=1/);
  assert.match(text.stdout, /^web +1\.0\.0 +- +enabled +1\.1\.0 failed +rolled-back: 1\.1\.0 failed/m);
  assert.match(text.stdout, /web: 1\.1\.0 failed its first run and was rolled back on .*; held until the repository carries a newer version\. Its message: module "web" failed: the new TLS setup does not start/);
  const status = JSON.parse((await runCli(['status', '--json', '--modules-path', root])).stdout) as Status;
  const web = status.modules.find((m) => m.module === 'web');
  assert.deepEqual(web?.held.map((h) => [h.kind, 'version' in h ? h.version : null, h.reason]), [['failed', '1.1.0', 'module "web" failed: the new TLS setup does not start']]);
  assert.equal(web?.lastRun?.status, 'rolled-back');
  assert.deepEqual(status.lastRun?.recap, { ok: 1, changed: 0, failed: 1, held: 1 });

  // The next run exits 0 (the version stays held); with notify_on "always" it is reported too.
  writeFileSync(path.join(root, 'config.json'), JSON.stringify({ notify_command: recorder(inbox), notify_on: 'always' }));
  const third = await runCli(base(root, repo.url));
  assert.equal(third.code, 0, third.stderr);
  assert.equal((JSON.parse(readFileSync(path.join(inbox, 'report-2.json'), 'utf8')) as RunReport).updates.find((u) => u.module === 'web')?.status, 'held');

  const history = JSON.parse((await runCli(['history', '--json', '--modules-path', root])).stdout) as HistoryEntry[];
  assert.deepEqual(history.map((h) => h.exitCode), [0, 1, 0], 'every run, newest first');
  assert.deepEqual(history[1]?.failed.map((f) => [f.module, f.status]), [['web', 'rolled-back']]);
  assert.deepEqual(history[2]?.installed.map((i) => `${i.module} ${i.to}`), ['db 2.0.0', 'web 1.0.0']);
  assert.equal((JSON.parse((await runCli(['history', '--json', '-n', '1', '--modules-path', root])).stdout) as HistoryEntry[]).length, 1);
  const table = await runCli(['history', '--modules-path', root]);
  assert.equal(table.stdout.split('\n').filter((l) => /^\d{4}-\d\d-\d\d /.test(l)).length, 3);
  assert.match(table.stdout, /Z web rolled-back: module "web" failed: the new TLS setup does not start\n/);
});

test('a notify command that fails, hangs up or does not exist never changes the run\'s outcome', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  const failing = await runCli([...base(root, repo.url), '--notify-on', 'always', '--notify-command', 'exec >&-; echo oops >&2; exit 3']);
  assert.equal(failing.code, 0, failing.stderr);
  assert.match(failing.stderr, /notify command .* failed with exit code 3 \(the run's outcome is unchanged\)/);
  assert.match(failing.stderr, /oops/);
  writeFileSync(path.join(root, 'config.json'), JSON.stringify({ notify_command: ['/nonexistent/notify'], notify_on: 'change' }));
  repo.commit(moduleFiles('web', { version: '1.1.0' }));
  const missing = await runCli(base(root, repo.url));
  assert.equal(missing.code, 0, missing.stderr);
  assert.match(missing.stderr, /notify command .*could not start: spawn \/nonexistent\/notify ENOENT; check notify_command/);
});

test('notify settings are validated: a bad notify_on or notify_command is a configuration error', async () => {
  const root = tempDir();
  writeFileSync(path.join(root, 'config.json'), JSON.stringify({ notify_command: 'mail root', notify_on: 'sometimes' }));
  const r = await runCli(['--modules-path', root, '--repo-url', 'file:///nonexistent']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /notify_command/);
  const flag = await runCli(['--modules-path', root, '--notify-on', 'sometimes']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--notify-on: must be failure, change or always/);
});
