// Damaged install-root state: the run repairs what it can, keeps every safety fact, and names what it cannot fix.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createPhase2 } from '../../src/orchestrator/phase2.js';
import { fingerprint, liveVersions } from '../helpers/install-root.js';
import { makeRepo, moduleFiles, rootIndex, tempDir } from '../helpers/repo.js';
import { runPhase1Only } from '../helpers/run.js';

const withPhase2 = () => ({ root: tempDir('uo-root'), phase2: createPhase2({ services: 'record' }) });
const codes = (r: { errors: { code: string }[] }) => r.errors.map((e) => e.code);

test('a garbled journal does not forget a held version: it comes back from the backup copy', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  assert.equal((await runPhase1Only(root, repo.url, withPhase2())).exitCode, 0);
  repo.commit(moduleFiles('web', { version: '2.0.0', body: "throw new Error('2.0.0 is broken');" }));
  const broken = await runPhase1Only(root, repo.url, withPhase2());
  assert.equal(broken.updates[0]?.status, 'rolled-back');
  writeFileSync(path.join(root, 'state', 'journal.json'), '{"held": {"web": garbled');
  const next = await runPhase1Only(root, repo.url, withPhase2());
  assert.deepEqual(next.updates.map((u) => [u.module, u.status]), [['web', 'held']], 'the broken version was not installed again');
  assert.equal(liveVersions(root)['web'], '1.0.0');
});

test('a run that changes no fact of the journal leaves both copies as they are; a copy that lags or differs is rewritten', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  // Two runs: the first journal is written in the order its facts were learned, every later one in the order
  // of the journal's schema (as it is read back).
  assert.equal((await runPhase1Only(root, repo.url, withPhase2())).exitCode, 0);
  assert.equal((await runPhase1Only(root, repo.url, withPhase2())).exitCode, 0);
  const journal = path.join(root, 'state', 'journal.json');
  const backup = path.join(root, 'state', 'journal.backup.json');
  const facts = readFileSync(journal, 'utf8');
  assert.equal(readFileSync(backup, 'utf8'), facts);
  // Atomic writes replace the file: a copy left alone keeps its inode.
  const inodes = () => [statSync(journal).ino, statSync(backup).ino];
  const before = inodes();
  assert.equal((await runPhase1Only(root, repo.url, withPhase2())).exitCode, 0);
  assert.deepEqual(inodes(), before, 'a steady run rewrote the journal');
  assert.equal(readFileSync(journal, 'utf8'), facts);

  // A backup that lags the journal (a run killed between the two writes), then a journal edited by hand in a way
  // that still parses: each copy is compared on its own and rewritten with the run's facts.
  writeFileSync(backup, `${JSON.stringify({ watermarks: {}, held: {} }, null, 2)}\n`);
  assert.equal((await runPhase1Only(root, repo.url, withPhase2())).exitCode, 0);
  assert.equal(readFileSync(backup, 'utf8'), facts);
  writeFileSync(journal, facts.replace(/\n/g, ' '));
  assert.equal((await runPhase1Only(root, repo.url, withPhase2())).exitCode, 0);
  assert.equal(readFileSync(journal, 'utf8'), facts);

  // A new fact is written to both.
  repo.commit(moduleFiles('web', { version: '2.0.0' }));
  assert.equal((await runPhase1Only(root, repo.url, withPhase2())).exitCode, 0);
  const after = JSON.parse(readFileSync(journal, 'utf8')) as { watermarks: Record<string, string> };
  assert.equal(after.watermarks['web'], '2.0.0');
  assert.equal(readFileSync(backup, 'utf8'), readFileSync(journal, 'utf8'));
});

test('journal and backup both unreadable: a foreign history is refused until --allow-history-rewrite confirms it', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  assert.equal((await runPhase1Only(root, repo.url, withPhase2())).exitCode, 0);
  writeFileSync(path.join(root, 'state', 'journal.json'), 'not json');
  writeFileSync(path.join(root, 'state', 'journal.backup.json'), '{"lastCommit": 5}');
  const foreign = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '9.0.0' }) });
  const refused = await runPhase1Only(root, foreign.url, withPhase2());
  assert.equal(refused.exitCode, 1);
  assert.deepEqual(codes(refused), ['E_JOURNAL_LOST']);
  assert.match(refused.errors[0]?.message ?? '', /journal\.json and its backup are unreadable.*--allow-history-rewrite/);
  assert.deepEqual(refused.modules.map((m) => [m.module, m.status]), [['web', 'ok']], 'the installed module still ran');
  assert.equal(liveVersions(root)['web'], '1.0.0');
  assert.ok(existsSync(path.join(root, 'state', 'journal.json.damaged-1')), 'the damaged journal is kept for the operator');
  const again = await runPhase1Only(root, foreign.url, withPhase2());
  assert.deepEqual(codes(again), ['E_JOURNAL_LOST'], 'still refused on the next run');
  const confirmed = await runPhase1Only(root, foreign.url, { ...withPhase2(), trust: { allowHistoryRewrite: true } });
  assert.equal(confirmed.exitCode, 0, JSON.stringify(confirmed.errors));
  assert.equal(liveVersions(root)['web'], '9.0.0');
});

test('index.json and journal.json that are folders, modules/ that is a file: moved aside, kept, and the run goes on', async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  assert.equal((await runPhase1Only(root, repo.url, withPhase2())).exitCode, 0);
  const check = await runPhase1Only(root, repo.url, { checkOnly: true });
  assert.equal(check.exitCode, 0);
  rmSync(path.join(root, 'index.json'));
  mkdirSync(path.join(root, 'index.json', 'inside'), { recursive: true });
  rmSync(path.join(root, 'state', 'journal.json'));
  mkdirSync(path.join(root, 'state', 'journal.json'));
  rmSync(path.join(root, 'modules'), { recursive: true });
  writeFileSync(path.join(root, 'modules'), 'operator notes');

  // A check records only its own report and the metrics; it moves no obstacle.
  const unchanged = { includeState: true, except: [path.join('state', 'last-check.json'), 'metrics'] };
  const before = fingerprint(root, unchanged);
  const refused = await runPhase1Only(root, repo.url, { checkOnly: true });
  assert.deepEqual(codes(refused), ['E_STATE_OBSTACLE']);
  assert.match(refused.errors[0]?.message ?? '', /index\.json is a folder where the orchestrator keeps a file; move it aside/);
  assert.equal(fingerprint(root, unchanged), before, 'check mode moved nothing');

  const r = await runPhase1Only(root, repo.url, withPhase2());
  assert.equal(r.exitCode, 0, JSON.stringify(r.errors));
  assert.ok(!codes(r).includes('E_INTERNAL'));
  assert.equal(liveVersions(root)['web'], '1.0.0');
  assert.ok(statSync(path.join(root, 'index.json.obstacle-1', 'inside')).isDirectory());
  assert.ok(statSync(path.join(root, 'state', 'journal.json.obstacle-1')).isDirectory());
  assert.equal(readFileSync(path.join(root, 'modules.obstacle-1'), 'utf8'), 'operator notes');
  assert.equal((JSON.parse(readFileSync(path.join(root, 'index.json'), 'utf8')) as { packages: Record<string, string> }).packages['web'], '1.0.0');
});

test('a damaged live version (bundle truncated or missing, install record or manifest garbled) is re-installed and reported repaired', { timeout: 600_000 }, async () => {
  const repo = makeRepo({ ...rootIndex(), ...moduleFiles('web', { version: '1.0.0' }) });
  const root = tempDir();
  const first = await runPhase1Only(root, repo.url, withPhase2());
  assert.equal(first.exitCode, 0, JSON.stringify(first.errors));
  const live = () => realpathSync(path.join(root, 'modules', 'web'));
  const damages: [string, (dir: string) => void][] = [
    ['bundle truncated', (dir) => truncateSync(path.join(dir, '.updates', 'bundle.cjs'), 10)],
    ['bundle missing', (dir) => rmSync(path.join(dir, '.updates', 'bundle.cjs'))],
    ['bundle altered, same size', (dir) => {
      const file = path.join(dir, '.updates', 'bundle.cjs');
      const bytes = readFileSync(file);
      bytes[0] = bytes[0] === 0x20 ? 0x09 : 0x20;
      writeFileSync(file, bytes);
    }],
    ['install record garbled', (dir) => writeFileSync(path.join(dir, '.updates', 'install.json'), '{"module": "web", garbled')],
    ['manifest garbled', (dir) => writeFileSync(path.join(dir, 'index.json'), '{ not json')],
  ];
  for (const [what, damage] of damages) {
    const damaged = live();
    damage(damaged);
    const r = await runPhase1Only(root, repo.url, withPhase2());
    assert.equal(r.exitCode, 0, `${what}: ${JSON.stringify(r.errors)}`);
    assert.deepEqual(r.updates.map((u) => [u.module, u.status, u.to]), [['web', 'repaired', '1.0.0']], what);
    assert.deepEqual(r.modules.map((m) => [m.module, m.status]), [['web', 'ok']], `${what}: the repaired module ran`);
    assert.notEqual(live(), damaged, `${what}: a fresh copy went live`);
    assert.equal(existsSync(path.join(root, '.versions', 'web', 'previous')), false, `${what}: the damaged copy is not kept as a rollback target`);
    const again = await runPhase1Only(root, repo.url);
    assert.deepEqual(again.updates, [], `${what}: the repaired copy verifies on the next run`);
    assert.equal(existsSync(damaged), false, `${what}: the damaged copy was removed`);
  }
});
