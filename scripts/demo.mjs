// `npm start`: the embedded default. Publishes this project's modules/ and index.json as a local git
// repository (.demo/repo) and runs one full cycle into a local install root (.demo/root) with --root:
// no root privileges, no network. Run it twice: the second run finds nothing to update.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const project = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = path.join(project, '.demo');
const repo = path.join(demo, 'repo');
const root = path.join(demo, 'root');
const env = {
  ...process.env,
  GIT_AUTHOR_NAME: 'updates demo',
  GIT_AUTHOR_EMAIL: 'demo@localhost',
  GIT_COMMITTER_NAME: 'updates demo',
  GIT_COMMITTER_EMAIL: 'demo@localhost',
};
const git = (...args) => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8' }).trim();

if (!existsSync(path.join(repo, '.git'))) {
  mkdirSync(repo, { recursive: true });
  git('init', '-q', '-b', 'main');
}
// Publish the current modules/ and index.json: a commit only when something changed.
rmSync(path.join(repo, 'modules'), { recursive: true, force: true });
cpSync(path.join(project, 'modules'), path.join(repo, 'modules'), { recursive: true });
cpSync(path.join(project, 'index.json'), path.join(repo, 'index.json'));
git('add', '-A');
if (git('status', '--porcelain') !== '') git('commit', '-q', '-m', 'publish modules');

// --root is a chroot-like tree: give it the usual top-level folders a real system has.
for (const dir of ['etc', 'opt', 'srv', 'var/lib']) mkdirSync(path.join(root, dir), { recursive: true });

const args = [
  path.join(project, 'bin', 'updates.js'),
  'run',
  '--root', root,
  '--repo-url', pathToFileURL(repo).href,
  '--services', 'record',
  ...process.argv.slice(2),
];
process.stderr.write(`updates ${args.slice(1).join(' ')}\n`);
const res = spawnSync(process.execPath, args, { stdio: 'inherit' });
const install = path.join(root, 'var/local/lib/updates');
process.stderr.write(`\n${summary(path.join(install, 'state', 'last-run.json'))}`);
process.stderr.write(`Install root: ${install}; module files under ${root}; exit code ${res.status}\n`);
process.exit(res.status ?? 1);

/** The run report, as a short human summary of both phases. */
function summary(file) {
  let r;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return 'No run report was written.\n';
  }
  const lines = [`Phase 1 (commit ${String(r.repository?.commit ?? '?').slice(0, 12)}): ${r.updates.length === 0 ? 'nothing to update' : ''}`];
  for (const u of r.updates) lines.push(`  ${u.module.padEnd(12)} ${(u.from ?? '(new)').padEnd(8)} -> ${String(u.to ?? '?').padEnd(8)} ${u.status}`);
  lines.push(`Phase 2: ${r.modules.filter((m) => m.status === 'ok').length} of ${r.modules.length} modules ok`);
  for (const m of r.modules) lines.push(`  ${m.module.padEnd(12)} ${m.status.padEnd(8)} ${m.message ?? ''}`);
  lines.push(`Orchestrator ${r.orchestrator.from}: ${r.orchestrator.status}`);
  return `${lines.join('\n')}\n`;
}
