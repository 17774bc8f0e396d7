/**
 * Runs one attack through a full orchestrator run and prints its verdict as the last stdout line (JSON):
 *   node --import tsx test/security/one.ts <attack>
 * One process per attack, so an attack that takes the whole process down is recorded as not contained by
 * run.ts instead of ending the suite.
 */
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/core/logger.js';
import { createPhase2 } from '../../src/orchestrator/phase2.js';
import type { RunReport } from '../../src/orchestrator/report.js';
import { fingerprint, liveTargets } from '../helpers/install-root.js';
import { seedClone } from '../helpers/raw-tree.js';
import { makeRepo, rootIndex } from '../helpers/repo.js';
import { runPhase1Only } from '../helpers/run.js';
import { DEFAULT_CAPABILITIES } from './attack.js';
import type { Attack } from './attack.js';
import { ATTACKS } from './attacks/index.js';
import { changedFiles, filesContaining, leftoverProcesses, listProcesses, snapshot } from './evidence.js';
import { makeWorld } from './world.js';
import type { World } from './world.js';

/** What one.ts prints: the row of the suite's table plus the reasons behind "contained". */
export interface Verdict {
  attack: string;
  category: string;
  outcome: string;
  contained: boolean;
  problems: string[];
  attackerMessage?: string;
}

const CANARY_SOURCE = `import { config, fs, store } from 'updates-orchestrator/sdk';
export async function main(): Promise<{ success: boolean; message: string }> {
  const token = (config as { token: string }).token;
  await fs.writeFile('/srv/canary/ran', 'canary-' + token);
  await store.set('mark', 'canary-' + token);
  const keys = await store.keys();
  if (keys.some((k) => k !== 'mark')) return { success: false, message: 'foreign keys in my store: ' + keys.join(',') };
  const probe = {} as Record<string, unknown>;
  if (probe['polluted'] !== undefined) return { success: false, message: 'Object.prototype is polluted in my compartment' };
  return { success: true, message: 'canary ran' };
}
`;

/** The "on trial" mark of a fresh version (.versions/<name>/.trial) is the orchestrator's own bookkeeping: Phase 2
 * removes it after the version's first run, so it is left out when the install tree is compared. */
const isTrialMark = (rel: string): boolean => path.basename(rel) === '.trial' && rel.split(path.sep)[0] === '.versions';

function manifestOf(name: string, priority: number, extra: Record<string, unknown>, metadata: Record<string, unknown>): string {
  return `${JSON.stringify({ metadata: { schema_version: '1.0.0', name, description: `security suite ${name}`, enabled: true, priority, ...metadata }, ...extra }, null, 2)}\n`;
}

/** The repository of one attack: the attacker (priority 10), the canary (priority 900) and the attack's extra files. */
function repoFiles(attack: Attack, w: World): Record<string, string> {
  const m = attack.manifest?.(w) ?? {};
  const memory = { max_memory_mb: m.max_memory_mb ?? 128 };
  const configuration = { token: w.token, port: w.port, sentinel: w.sentinel, secretName: 'UO_SEC_SECRET', hostPid: process.pid, ...m.configuration };
  return {
    ...rootIndex(),
    'modules/attacker/index.json': manifestOf('attacker', 10, { configuration, capabilities: m.capabilities ?? DEFAULT_CAPABILITIES }, { timeout_seconds: m.timeout_seconds ?? 10, ...memory }),
    'modules/attacker/index.ts': attack.source(w),
    'modules/canary/index.json': manifestOf('canary', 900, { configuration: { token: w.token }, capabilities: { paths: [{ path: '/srv/canary', access: ['read', 'write'] }] } }, { timeout_seconds: 10, ...memory }),
    'modules/canary/index.ts': CANARY_SOURCE,
    ...attack.files?.(w),
  };
}

/** Files whose bytes, owner and mode must be the same after the run. */
function watchedFiles(w: World): string[] {
  return [
    w.sentinel, w.sentinelDir,
    w.host('/etc/outside/secret'), w.host('/etc/outside'),
    w.host('/srv/ro/data'), w.host('/srv/ro'),
    '/etc/passwd', '/etc/shadow', '/etc/hostname',
  ];
}

function collectLogs(): { stream: Writable; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const text = (): string => chunks.join('');
  const lines = (): Record<string, unknown>[] =>
    text().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { stream, lines, text };
}

function attackerOutcome(attack: Attack, w: World, report: RunReport, logs: Record<string, unknown>[], problems: string[]): string {
  const denied = logs.filter((l) => l['module'] === 'attacker' && l['audit'] === true && l['decision'] === 'denied').length;
  const run = report.modules.find((m) => m.module === 'attacker');
  if (attack.expect === 'sync') {
    const refused = report.errors.find((e) => e.code === 'E_SYNC_BAD_OBJECTS');
    if (refused === undefined) problems.push(`the fetch was not refused (errors: ${report.errors.map((e) => e.code).join(', ') || 'none'})`);
    if (Object.keys(liveTargets(w.installRoot)).length > 0) problems.push('a module was installed from a refused fetch');
    if (report.modules.length > 0) problems.push('modules ran from a refused fetch');
    return `fetch refused: ${(refused?.message ?? '').replace(/.*git's own check refuses \(/, '').replace(/\);.*/, '').slice(0, 80)}`;
  }
  if ((attack.expect ?? 'run') === 'build') {
    const upd = report.updates.find((u) => u.module === 'attacker');
    // 'invalid' is a refusal too: the module was read from the commit and refused before it was built.
    if (upd?.status !== 'failed' && upd?.status !== 'invalid') problems.push(`the install was not refused (update status ${upd?.status ?? 'none'})`);
    if (run !== undefined) problems.push(`the module ran (status ${run.status})`);
    if (liveTargets(w.installRoot)['attacker'] !== undefined) problems.push('the module was activated (modules/attacker exists)');
    return `refused at build: ${(upd?.message ?? '').replace(/\s+/g, ' ').slice(0, 90)}`;
  }
  if (run === undefined) {
    problems.push('the attacker has no entry in the report');
    return 'no entry';
  }
  if (run.status === 'ok') problems.push(`the attacker is reported ok: ${(run.message ?? '').slice(0, 300)}`);
  return `${run.status} ${run.code ?? ''}${denied > 0 ? `, ${denied} denied` : ''}`.trim();
}

function checkCanary(w: World, report: RunReport, problems: string[]): void {
  const canary = report.modules.find((m) => m.module === 'canary');
  if (canary?.status !== 'ok') problems.push(`the canary did not run ok: ${canary?.status ?? 'absent'} ${canary?.message ?? ''}`);
  let marker = '';
  try {
    marker = readFileSync(w.host('/srv/canary/ran'), 'utf8');
  } catch {
    // checked below
  }
  if (marker !== `canary-${w.token}`) problems.push('the canary marker was not written');
  try {
    const store = JSON.parse(readFileSync(`${w.installRoot}/state/store/canary.json`, 'utf8')) as Record<string, unknown>;
    if (Object.keys(store).join() !== 'mark') problems.push(`the canary's store holds foreign keys: ${Object.keys(store).join(',')}`);
  } catch {
    problems.push("the canary's store is missing or unreadable");
  }
}

async function runAttack(attack: Attack): Promise<Verdict> {
  const w = await makeWorld();
  const problems: string[] = [];
  process.env['UO_SEC_SECRET'] ??= w.secret;
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).join();
  try {
    attack.setup?.(w);
    const repo = makeRepo(repoFiles(attack, w), w.repoParent);
    if (attack.links !== undefined) {
      for (const [link, target] of Object.entries(attack.links)) {
        mkdirSync(path.dirname(path.join(repo.dir, link)), { recursive: true });
        symlinkSync(target, path.join(repo.dir, link));
      }
      repo.commit({}, 'symlinks');
    }
    attack.tree?.(repo, w);
    if (attack.via === 'seeded') {
      mkdirSync(path.join(w.installRoot, 'state'), { recursive: true, mode: 0o700 });
      seedClone(repo, path.join(w.installRoot, 'state', 'repo.git'));
    }
    const watched = snapshot(watchedFiles(w));
    let installBefore = '';
    let installAfter = '';
    const logs = collectLogs();
    const inner = createPhase2({ services: 'record', poolSize: 1 });
    const report = await runPhase1Only(w.installRoot, repo.url, {
      root: w.root,
      logger: createLogger({ level: 'info', destination: logs.stream }),
      phase2: async (ctx) => {
        // The install tree (modules, versions, global index) as Phase 1 left it; only Phase 2 could change it now.
        installBefore = fingerprint(w.installRoot, { skip: isTrialMark });
        const stop = attack.during?.(w);
        try {
          await inner(ctx);
        } finally {
          stop?.();
          installAfter = fingerprint(w.installRoot, { skip: isTrialMark });
        }
      },
    });
    // Late SDK calls and detached processes get a moment to show themselves before the evidence is read.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const lines = logs.lines();
    const outcome = attackerOutcome(attack, w, report, lines, problems);
    // A refused fetch installs nothing, the canary included: there is no neighbour to check.
    if (attack.expect !== 'sync') checkCanary(w, report, problems);
    problems.push(...changedFiles(watched, snapshot(watchedFiles(w))).map((c) => `watched file changed: ${c}`));
    if (installBefore !== installAfter) problems.push('the install tree (modules, versions, index.json) changed during Phase 2');
    for (const p of leftoverProcesses(w.token, process.pid)) problems.push(`process left behind: ${p.pid} (ppid ${p.ppid}) ${p.cmdline.slice(0, 120)}`);
    const loot = filesContaining(w.root, w.loot, [w.host('/srv/demo'), `${w.installRoot}/state`]);
    problems.push(...loot.map((f) => `loot written outside the attacker's grant: ${f}`));
    const secretAt = filesContaining(w.root, w.secret);
    if (JSON.stringify(report).includes(w.secret)) secretAt.push('the run report');
    if (logs.text().includes(w.secret)) secretAt.push('the run logs');
    problems.push(...secretAt.map((f) => `the orchestrator's secret leaked into ${f}`));
    if (w.hits() > 0) problems.push(`the local HTTP service received ${w.hits()} request(s)`);
    if (Object.getOwnPropertyNames(Object.prototype).join() !== protoBefore || ({} as Record<string, unknown>)['polluted'] !== undefined) {
      problems.push("the host's Object.prototype was changed");
    }
    problems.push(...(attack.check?.(w, { report, logs: lines }) ?? []));
    if (process.env['UO_SEC_DEBUG'] === '1') process.stderr.write(`${JSON.stringify({ updates: report.updates, modules: report.modules, errors: report.errors }, null, 2)}\n`);
    const attackerMessage = report.modules.find((m) => m.module === 'attacker')?.message;
    return { attack: attack.name, category: attack.category, outcome, contained: problems.length === 0, problems, ...(attackerMessage ? { attackerMessage: attackerMessage.slice(0, 4000) } : {}) };
  } finally {
    killLeftovers(w.token);
    await w.cleanup();
  }
}

/**
 * Ends the processes this attack started and left behind (found by the attack's token) and all their
 * descendants (a marked shell's `sleep` child carries no token), by pid.
 */
function killLeftovers(token: string): void {
  const all = listProcesses();
  const doomed = new Set(leftoverProcesses(token, process.pid).map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (!doomed.has(p.pid) && doomed.has(p.ppid) && p.pid !== process.pid) {
        doomed.add(p.pid);
        grew = true;
      }
    }
  }
  for (const pid of doomed) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const name = process.argv[2] ?? '';
const attack = ATTACKS.find((a) => a.name === name);
if (attack === undefined) {
  process.stderr.write(`unknown attack "${name}"; known: ${ATTACKS.map((a) => a.name).join(', ')}\n`);
  process.exit(2);
}
const verdict = await runAttack(attack);
process.stdout.write(`${JSON.stringify(verdict)}\n`);
process.exit(0);
