// The metrics file through the real `updates` command: valid Prometheus text format (parsed here, strictly),
// the metrics a dashboard needs, written where a collector running as `nobody` can read it, whatever the umask.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { BIN, PROJECT, runCli } from '../helpers/run.js';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Parses the text exposition format; throws on anything a collector would refuse. Series → value. */
function parseMetrics(text: string): Map<string, number> {
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const series = new Map<string, number>();
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (meta !== null) {
      const [, kind = '', name = '', rest = ''] = meta;
      assert.match(name, NAME);
      if (kind === 'TYPE') {
        assert.ok(!types.has(name), `one TYPE line for ${name}`);
        assert.ok(['gauge', 'counter', 'untyped'].includes(rest), `${name}: type ${rest}`);
        types.set(name, rest);
      } else helps.add(name);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(sample !== null, `a sample line: ${line}`);
    const [, name = '', labelText = '', value = ''] = sample;
    assert.ok(types.has(name) && helps.has(name), `${name} has HELP and TYPE before its samples`);
    assert.ok(name.startsWith('updates_'), `${name}: one prefix for the exporter`);
    const labels: string[] = [];
    for (const m of labelText.matchAll(/([^=,]+)="((?:[^"\\]|\\.)*)"(,|$)/g)) {
      assert.match(m[1] ?? '', LABEL);
      assert.ok(!(m[1] ?? '').startsWith('__'), 'no reserved label names');
      labels.push(`${m[1]}="${m[2]}"`);
    }
    assert.equal(labels.join(','), labelText, `labels parse: ${labelText}`);
    const v = Number(value);
    assert.ok(Number.isFinite(v), `${line}: a number`);
    const key = labelText === '' ? name : `${name}{${labelText}}`;
    assert.ok(!series.has(key), `no duplicate series ${key}`);
    series.set(key, v);
  }
  for (const name of types.keys()) assert.ok(!/_total$/.test(name) || types.get(name) === 'counter', `${name}: _total only on counters`);
  return series;
}

/** Runs the CLI with umask 077, as a careful administrator's root shell might. */
async function runStrictUmask(args: string[]): Promise<void> {
  await promisify(execFile)('/bin/sh', ['-c', 'umask 077; exec "$0" --import tsx "$@"', process.execPath, BIN, ...args], { cwd: PROJECT, env: { ...process.env, UPDATES_LOG_LEVEL: 'warn' } });
}

test('the metrics file parses, carries what a dashboard needs, and is readable by nobody', async () => {
  const changing = "return { success: true, changed: true };";
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0', body: changing }), ...moduleFiles('db', { version: '2.0.0' }) });
  const top = tempDir('uo-metrics');
  chmodSync(top, 0o755); // as /var/local/lib is; mkdtemp makes 0700
  const root = path.join(top, 'root');
  const file = path.join(top, 'textfile', 'collector', 'updates.prom');
  const args = ['--modules-path', root, '--repo-url', repo.url, '--services', 'record', '--metrics-file', file];
  await runStrictUmask(args);
  repo.commit(moduleFiles('web', { version: '1.1.0', body: changing }));
  await runStrictUmask(args);
  assert.equal((await runCli(['hold', 'db', '--reason', 'audit', '--modules-path', root, '--metrics-file', file])).code, 0);
  repo.commit(moduleFiles('web', { version: '1.2.0' }));
  const check = await runCli(['check', ...args]);
  assert.equal(check.code, 100, check.stderr);

  assert.equal(statSync(file).mode & 0o777, 0o644);
  assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o755);
  assert.equal(statSync(path.dirname(path.dirname(file))).mode & 0o777, 0o755);
  const asNobody = execFileSync('runuser', ['-u', 'nobody', '--', 'cat', file], { encoding: 'utf8' });
  assert.equal(asNobody, readFileSync(file, 'utf8'), 'nobody reads the same file');

  const m = parseMetrics(asNobody);
  const version = (JSON.parse(readFileSync(path.join(PROJECT, 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(m.get(`updates_info{version="${version}"}`), 1);
  const lastRun = JSON.parse(readFileSync(path.join(root, 'state', 'last-run.json'), 'utf8')) as { finishedAt: string };
  assert.equal(m.get('updates_last_success_timestamp_seconds'), Date.parse(lastRun.finishedAt) / 1000);
  assert.equal(m.get('updates_last_run_exit_code'), 0);
  assert.equal(m.get('updates_pending_updates'), 1, 'written by check: web 1.2.0 is waiting');
  assert.equal(m.get('updates_changed_modules'), 1);
  assert.equal(m.get('updates_held_modules'), 1);
  assert.equal(m.get('updates_module_held{module="db",kind="operator",version="2.0.0"}'), 1);
  assert.equal(m.get('updates_module_info{module="web",version="1.1.0",previous_version="1.0.0",enabled="true"}'), 1);
  assert.equal(m.get('updates_module_info{module="db",version="2.0.0",previous_version="",enabled="true"}'), 1);
  assert.equal(m.get('updates_module_run_ok{module="web"}'), 1);
});

test('by default the metrics go to metrics/updates.prom beside state/, which stays private', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const top = tempDir('uo-metrics');
  chmodSync(top, 0o755);
  const root = path.join(top, 'root');
  await runStrictUmask(['--modules-path', root, '--repo-url', repo.url, '--services', 'record']);
  const file = path.join(root, 'metrics', 'updates.prom');
  assert.equal(statSync(root).mode & 0o777, 0o755, 'the install root others can traverse');
  assert.equal(statSync(path.join(root, 'state')).mode & 0o777, 0o700);
  assert.equal(statSync(file).mode & 0o777, 0o644);
  const m = parseMetrics(execFileSync('runuser', ['-u', 'nobody', '--', 'cat', file], { encoding: 'utf8' }));
  assert.equal(m.get('updates_last_run_exit_code'), 0);
  assert.equal(m.get('updates_held_modules'), 0);
});
