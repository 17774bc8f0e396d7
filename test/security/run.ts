/**
 * The security attack suite: every attack through a full orchestrator run, each in its own child process
 * (one.ts), two at a time. Prints `attack | category | outcome | contained`, the reasons for every attack not
 * contained, and ends with "N attacks, M contained"; exits 1 if any attack was not contained.
 *   npm run test:security [-- name ...]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ATTACKS } from './attacks/index.js';
import type { Verdict } from './one.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROJECT = path.resolve(HERE, '..', '..');
/** Attacks run two at a time: the machine has two cores and each attack is its own process. */
const CONCURRENCY = 2;
/** An attack process still running after this is killed and recorded as not contained (the orchestrator hung). */
const ATTACK_DEADLINE_MS = 150_000;

/** Runs one attack's process and turns whatever happened to it into a verdict. */
function runOne(name: string, category: string): Promise<Verdict> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'one.ts'), name], {
      cwd: PROJECT,
      // A secret in the orchestrator's initial environment: no attack may get it out.
      env: { ...process.env, UO_SEC_SECRET: `SECRET-${randomBytes(8).toString('hex')}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, ATTACK_DEADLINE_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as Verdict);
      } catch {
        const why = hung ? 'the orchestrator hung (killed by the suite)' : `the orchestrator process died (exit ${code ?? 'none'}, signal ${signal ?? 'none'})`;
        resolve({ attack: name, category, outcome: why, contained: false, problems: [why, stderr.trim().split('\n').slice(-5).join(' | ')] });
      }
    });
  });
}

async function runAll(selected: readonly { name: string; category: string }[]): Promise<Verdict[]> {
  const verdicts: Verdict[] = new Array<Verdict>(selected.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < selected.length) {
      const i = next++;
      const a = selected[i];
      if (a === undefined) continue;
      verdicts[i] = await runOne(a.name, a.category);
      process.stderr.write(`${verdicts[i].contained ? 'contained    ' : 'NOT CONTAINED'} ${a.name}\n`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return verdicts;
}

function table(verdicts: readonly Verdict[]): string {
  const rows = [['attack', 'category', 'outcome', 'contained'], ...verdicts.map((v) => [v.attack, v.category, v.outcome, v.contained ? 'yes' : 'NO'])];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]): string => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ').trimEnd();
  return [line(rows[0] ?? []), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(line)].join('\n');
}

const wanted = process.argv.slice(2);
const selected = wanted.length > 0 ? ATTACKS.filter((a) => wanted.includes(a.name)) : ATTACKS;
const verdicts = await runAll(selected);
console.log(table(verdicts));
const failed = verdicts.filter((v) => !v.contained);
for (const v of failed) {
  console.log(`\nNOT CONTAINED: ${v.attack}`);
  for (const p of v.problems) console.log(`  - ${p}`);
  if (v.attackerMessage !== undefined) console.log(`  attacker said: ${v.attackerMessage.split('\n').filter((l) => l.includes('REACHED') || l.startsWith('ATTACK')).slice(0, 8).join(' | ')}`);
}
console.log(`\n${verdicts.length} attacks, ${verdicts.length - failed.length} contained`);
process.exit(failed.length > 0 ? 1 : 0);
