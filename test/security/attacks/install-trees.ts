// Attacks by the repository's structure: git trees no `git add` would make, symlink chains, an entry point that
// lives elsewhere, degenerate deadlines, and hostile release trees for self-update. Installing runs as root
// before any sandbox exists, so each must be refused before anything is written outside the install.
import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT } from '../../helpers/run.js';
import { blob, commitEdited, nest, rawTree } from '../../helpers/raw-tree.js';
import type { RawEntry } from '../../helpers/raw-tree.js';
import { rootIndex } from '../../helpers/repo.js';
import type { TestRepo } from '../../helpers/repo.js';
import { hostile } from '../attack.js';
import type { Attack } from '../attack.js';
import type { World } from '../world.js';

/** The attacker's code when its structure is the attack: it only runs if the install let it through. */
const INERT = hostile('return done();');

/** Enough ".." to climb from any staging folder to "/" (extra ones stay at "/"). */
const TO_ROOT: readonly string[] = Array.from({ length: 24 }, () => '..');

/** The path of the sentinel folder from "/": where an escaping entry lands, outside --root altogether. */
const sentinelDirParts = (w: World): string[] => path.relative('/', w.sentinelDir).split('/');

/** The loot as a blob: what an escaping file would write. */
const lootBlob = (repo: TestRepo, w: World): string => blob(repo, `${w.loot}\n`);

/** A folder entry named `first`, then `rest`, then the sentinel folder's path, whose innermost folder holds `pwned`. */
function escapingFolder(repo: TestRepo, w: World, first: string, rest: readonly string[] = TO_ROOT.slice(1)): RawEntry {
  const pwned = rawTree(repo, [{ mode: '100644', name: 'pwned', oid: lootBlob(repo, w) }]);
  return { mode: '40000', name: first, oid: nest(repo, [...rest, ...sentinelDirParts(w)], pwned) };
}

/** The attacker's folder with `extra` entries added. */
const addToAttacker = (extra: (repo: TestRepo, w: World) => RawEntry[]) => (repo: TestRepo, w: World): void => {
  commitEdited(repo, ['modules', 'attacker'], (entries) => [...entries, ...extra(repo, w)]);
};

/** A symlink target that reads as inside (`a/a/a/...`, with `a -> .`) but climbs to `to` (a host path). */
const chainTo = (to: string): string => `${TO_ROOT.map(() => 'a').join('/')}/${TO_ROOT.join('/')}${to}`;

/** A manifest declaring a grant on the folder outside, hidden in a second index.json. */
const loudManifest = (w: World): string =>
  JSON.stringify({
    metadata: { schema_version: '1.0.0', name: 'attacker', priority: 10, timeout_seconds: 10 },
    configuration: { token: w.token },
    capabilities: { paths: [{ path: '/etc/outside', access: ['read', 'write'] }] },
  });

/** One attack of the structure kind: the module must be refused at install. */
const refusedAtBuild = (name: string, category: string, rest: Omit<Attack, 'name' | 'category' | 'source' | 'expect'> & { source?: Attack['source'] }): Attack => ({
  name,
  category,
  source: () => INERT,
  expect: 'build',
  ...rest,
});

const TREES = 'hostile trees at install (raw git objects)';
const DUPLICATES = 'duplicate tree entries';
const CHAINS = 'symlink chains that read as inside';
const ENTRY = 'entry point or bundled file outside the module';
const DEADLINES = 'degenerate deadlines';
const RELEASE = 'hostile release trees (self-update)';

const HOSTILE_TREES: Attack[] = [
  {
    name: 'tree-dotdot-fetched',
    category: TREES,
    source: () => INERT,
    expect: 'sync',
    tree: addToAttacker((r, w) => [escapingFolder(r, w, '..')]),
  },
  refusedAtBuild('tree-dotdot-in-clone', TREES, { via: 'seeded', tree: addToAttacker((r, w) => [escapingFolder(r, w, '..')]) }),
  refusedAtBuild('tree-dot-then-dotdot', TREES, { via: 'seeded', tree: addToAttacker((r, w) => [escapingFolder(r, w, '.', TO_ROOT)]) }),
  refusedAtBuild('tree-slash-in-name', TREES, {
    via: 'seeded',
    tree: addToAttacker((r, w) => [{ mode: '100644', name: `${TO_ROOT.join('/')}/${sentinelDirParts(w).join('/')}/pwned`, oid: lootBlob(r, w) }]),
  }),
  refusedAtBuild('tree-empty-name', TREES, { via: 'seeded', tree: addToAttacker((r, w) => [escapingFolder(r, w, '', TO_ROOT)]) }),
  refusedAtBuild('tree-dotdot-deep-inside', TREES, {
    via: 'seeded',
    // The ".." sits three folders down, under ordinary names, where a check of the top level would not look.
    tree: addToAttacker((r, w) => [{ mode: '40000', name: 'lib', oid: nest(r, ['util', 'x'], rawTree(r, [escapingFolder(r, w, '..')])) }]),
  }),
  refusedAtBuild('tree-submodule-named-dotdot', TREES, {
    via: 'seeded',
    tree: addToAttacker((r) => [{ mode: '160000', name: '..', oid: r.git('rev-parse', 'HEAD') }]),
  }),
  refusedAtBuild('tree-non-utf8-twins', TREES, {
    via: 'seeded',
    // Two names that a lossy decoder writes as the same U+FFFD: first a symlink out, then a file through it.
    tree: addToAttacker((r, w) => [
      { mode: '120000', name: Buffer.from([0xfe]), oid: blob(r, `${TO_ROOT.join('/')}${w.sentinel}`) },
      { mode: '100644', name: Buffer.from([0xff]), oid: lootBlob(r, w) },
    ]),
  }),
  refusedAtBuild('tree-nested-too-deep', TREES, {
    via: 'seeded',
    tree: addToAttacker((r, w) => [{ mode: '40000', name: 'deep', oid: nest(r, Array.from({ length: 200 }, () => 'd'), rawTree(r, [{ mode: '100644', name: 'f', oid: lootBlob(r, w) }])) }]),
  }),
  {
    // A module folder named ".." in modules/: installing it as a module would write beside the install root.
    name: 'tree-module-folder-named-dotdot',
    category: TREES,
    source: () => INERT,
    via: 'seeded',
    tree: (r, w) => {
      const manifest = blob(r, JSON.stringify({ metadata: { schema_version: '1.0.0' } }));
      const evil = rawTree(r, [{ mode: '100644', name: 'index.json', oid: manifest }, { mode: '100644', name: 'index.ts', oid: lootBlob(r, w) }]);
      commitEdited(r, ['modules'], (entries) => [{ mode: '40000', name: '..', oid: evil }, ...entries]);
    },
    check: (w, o) => {
      const problems: string[] = [];
      const dotdot = o.report.updates.find((u) => u.module === '..');
      if (dotdot !== undefined && dotdot.status !== 'invalid' && dotdot.status !== 'failed') problems.push(`modules/.. was not refused (${dotdot.status})`);
      if (o.report.modules.some((m) => m.module === '..')) problems.push('modules/.. ran');
      return problems;
    },
  },
];

const DUPLICATE_ENTRIES: Attack[] = [
  refusedAtBuild('dup-index-json-in-clone', DUPLICATES, {
    via: 'seeded',
    // The planner reads the first (no capabilities); a writer that writes both leaves the second for Phase 2.
    tree: addToAttacker((r, w) => [{ mode: '100644', name: 'index.json', oid: blob(r, loudManifest(w)) }]),
  }),
  {
    name: 'dup-index-json-fetched',
    category: DUPLICATES,
    source: () => INERT,
    expect: 'sync',
    tree: addToAttacker((r, w) => [{ mode: '100644', name: 'index.json', oid: blob(r, loudManifest(w)) }]),
  },
  refusedAtBuild('dup-symlink-then-file', DUPLICATES, {
    via: 'seeded',
    tree: addToAttacker((r, w) => [
      { mode: '120000', name: 'a', oid: blob(r, '.') },
      { mode: '120000', name: 'x', oid: blob(r, chainTo(w.sentinel)) },
      { mode: '100644', name: 'x', oid: lootBlob(r, w) },
    ]),
  }),
  refusedAtBuild('dup-file-then-symlink', DUPLICATES, {
    via: 'seeded',
    tree: addToAttacker((r, w) => [
      { mode: '100644', name: 'x', oid: lootBlob(r, w) },
      { mode: '120000', name: 'x', oid: blob(r, `${TO_ROOT.join('/')}${w.sentinelDir}`) },
    ]),
  }),
  refusedAtBuild('dup-symlink-then-folder', DUPLICATES, {
    via: 'seeded',
    // `d` a link to the sentinel folder, then a folder `d` whose file would be written through the link.
    tree: addToAttacker((r, w) => [
      { mode: '120000', name: 'd', oid: blob(r, `${TO_ROOT.join('/')}${w.sentinelDir}`) },
      { mode: '40000', name: 'd', oid: rawTree(r, [{ mode: '100644', name: 'pwned', oid: lootBlob(r, w) }]) },
    ]),
  }),
  refusedAtBuild('dup-module-folder', DUPLICATES, {
    via: 'seeded',
    // Two folders named "attacker" in modules/: the planner may check one and the writer install the other.
    tree: (r, w) => {
      const loud = rawTree(r, [
        { mode: '100644', name: 'index.json', oid: blob(r, loudManifest(w)) },
        { mode: '100644', name: 'index.ts', oid: blob(r, INERT) },
      ]);
      commitEdited(r, ['modules'], (entries) => [...entries, { mode: '40000', name: 'attacker', oid: loud }]);
    },
  }),
];

const SYMLINK_CHAINS: Attack[] = [
  refusedAtBuild('chain-dot-then-climb', CHAINS, {
    tree: addToAttacker((r, w) => [
      { mode: '120000', name: 'a', oid: blob(r, '.') },
      { mode: '120000', name: 'x', oid: blob(r, chainTo(w.sentinel)) },
    ]),
  }),
  refusedAtBuild('chain-two-links', CHAINS, {
    // q -> . and p -> q/.. : as text p is "." (inside); on disk q/.. is the module folder's parent. x -> p.
    tree: addToAttacker((r) => [
      { mode: '120000', name: 'p', oid: blob(r, 'q/..') },
      { mode: '120000', name: 'q', oid: blob(r, '.') },
      { mode: '120000', name: 'x', oid: blob(r, 'p') },
    ]),
  }),
  refusedAtBuild('chain-link-to-parent', CHAINS, {
    // "up -> .." resolves to the module's versions folder, outside the module folder itself.
    tree: addToAttacker((r) => [{ mode: '120000', name: 'up', oid: blob(r, '..') }]),
  }),
  refusedAtBuild('chain-absolute-link', CHAINS, {
    tree: addToAttacker((r, w) => [{ mode: '120000', name: 'secret', oid: blob(r, w.host('/etc/outside/secret')) }]),
  }),
  refusedAtBuild('chain-dangling-link', CHAINS, {
    // A link to nothing yet: something created later at its target would be reached through it.
    tree: addToAttacker((r, w) => [{ mode: '120000', name: 'later', oid: blob(r, `${TO_ROOT.join('/')}${w.sentinelDir}/later`) }]),
  }),
];

const ENTRY_OUTSIDE: Attack[] = [
  refusedAtBuild('entry-index-ts-chained-out', ENTRY, {
    setup: (w) => writeOutside(w),
    tree: (r, w) => commitEdited(r, ['modules', 'attacker'], (entries) => [
      ...entries.filter((e) => e.name !== 'index.ts'),
      { mode: '120000', name: 'a', oid: blob(r, '.') },
      { mode: '120000', name: 'index.ts', oid: blob(r, chainTo(w.host('/etc/outside/evil.ts'))) },
    ]),
  }),
  refusedAtBuild('entry-index-js-absolute', ENTRY, {
    setup: (w) => writeOutside(w),
    // No index.ts: the index.js fallback is the link.
    tree: (r, w) => commitEdited(r, ['modules', 'attacker'], (entries) => [
      ...entries.filter((e) => e.name !== 'index.ts'),
      { mode: '120000', name: 'index.js', oid: blob(r, w.host('/etc/outside/evil.ts')) },
    ]),
  }),
  refusedAtBuild('entry-imported-file-linked-out', ENTRY, {
    setup: (w) => writeOutside(w),
    source: () => `export { main } from './lib';\n`,
    tree: addToAttacker((r, w) => [{ mode: '120000', name: 'lib.ts', oid: blob(r, w.host('/etc/outside/evil.ts')) }]),
  }),
];

/** A module's code outside every module folder, which would succeed if it were built and run. */
function writeOutside(w: World): void {
  mkdirSync(w.host('/etc/outside'), { recursive: true });
  writeFileSync(w.host('/etc/outside/evil.ts'), `export async function main() { return { success: true, message: 'REACHED code outside the module' }; }\n`);
}

const DEGENERATE_DEADLINES: Attack[] = [1e-9, 0.5, 0, -1, 1e300].map((timeout) => ({
  name: `deadline-${String(timeout)}`,
  category: DEADLINES,
  source: () => INERT,
  expect: 'build' as const,
  manifest: () => ({ timeout_seconds: timeout }),
}));

/** Release files that pass the tree checks: the running package's lockfile (so no registry), a launcher, a source. */
function releaseFiles(launcher: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...rootIndex('99.0.0'),
    'package.json': '{"name":"updates-orchestrator","version":"99.0.0","type":"module"}\n',
    'package-lock.json': readFileSync(path.join(PROJECT, 'package-lock.json'), 'utf8'),
    'bin/updates.js': launcher,
    'src/version.ts': "export const VERSION = '99.0.0';\n",
    ...extra,
  };
}

/** The release must be refused: no release made current, nothing left staged, the modules run on the old code. */
function releaseRefused(detail: RegExp) {
  return (w: World, o: { report: { orchestrator: { status: string; message?: string } } }): string[] => {
    const problems: string[] = [];
    const { status, message = '' } = o.report.orchestrator;
    if (status !== 'failed') problems.push(`the release was not refused (orchestrator status ${status})`);
    else if (!detail.test(message)) problems.push(`the release was refused for another reason: ${message.slice(0, 300)}`);
    for (const entry of listReleases(w)) if (entry !== 'state.json') problems.push(`releases/${entry} is left`);
    return problems;
  };
}

function listReleases(w: World): string[] {
  try {
    return readdirSync(path.join(w.installRoot, 'releases'));
  } catch {
    return [];
  }
}

/**
 * A self-test that tries, as whoever runs it, to write the sentinel and a root-only file, to read the
 * orchestrator's secret from its environment and a root-only file, and reports what it got on stdout (which the
 * refusal message quotes into the report). It then fails, so the release is never made current.
 */
const GREEDY_LAUNCHER = (w: World): string => `import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
const loot = ['PWN', 'ED-'].join('') + ${JSON.stringify(w.token)};
const tries = [];
const attempt = (name, f) => { try { tries.push(name + ': ' + String(f()).slice(0, 200)); } catch (e) { tries.push(name + ': ' + e.code); } };
attempt('sentinel', () => appendFileSync(${JSON.stringify(w.sentinel)}, loot));
attempt('outside', () => writeFileSync(${JSON.stringify(w.host('/etc/outside/secret'))}, loot));
attempt('read', () => readFileSync(${JSON.stringify(w.host('/etc/outside/secret'))}, 'utf8'));
attempt('env', () => JSON.stringify(process.env));
process.stdout.write(tries.join('; ') + '\\n');
process.exitCode = 1;
`;

/**
 * The release is staged under the install root; its folders let other users pass, as /var/local/lib does, so
 * the sandbox user can run its build and self-test (without that, the self-update is refused before any code).
 */
const traversable = (w: World): void => chmodSync(w.root, 0o755);

/** Hostile entries go in the release's src/ folder: a hostile top folder refuses the whole commit earlier. */
const RELEASE_TREES: Attack[] = [
  {
    name: 'release-dotdot-in-clone',
    category: RELEASE,
    source: () => INERT,
    via: 'seeded',
    setup: traversable,
    files: () => releaseFiles('// launcher\n'),
    tree: (r, w) => commitEdited(r, ['src'], (entries) => [...entries, escapingFolder(r, w, '..')]),
    check: releaseRefused(/the name "\.\."/),
  },
  {
    name: 'release-dotdot-fetched',
    category: RELEASE,
    source: () => INERT,
    expect: 'sync',
    files: () => releaseFiles('// launcher\n'),
    tree: (r, w) => commitEdited(r, ['src'], (entries) => [...entries, escapingFolder(r, w, '..')]),
  },
  {
    name: 'release-symlink-then-file',
    category: RELEASE,
    source: () => INERT,
    via: 'seeded',
    setup: traversable,
    files: () => releaseFiles('// launcher\n'),
    tree: (r, w) => commitEdited(r, ['src'], (entries) => [
      ...entries,
      { mode: '120000', name: 'x', oid: blob(r, `${TO_ROOT.join('/')}${w.sentinel}`) },
      { mode: '100644', name: 'x', oid: lootBlob(r, w) },
    ]),
    check: releaseRefused(/"src\/x" appears twice/),
  },
  {
    name: 'release-launcher-linked-out',
    category: RELEASE,
    source: () => INERT,
    setup: traversable,
    files: () => releaseFiles('// launcher\n'),
    tree: (r, w) => commitEdited(r, ['bin'], () => [{ mode: '120000', name: 'updates.js', oid: blob(r, w.sentinel) }]),
    check: releaseRefused(/"bin\/updates\.js" is a symlink .*resolves outside the folder/),
  },
  {
    name: 'release-self-test-wants-root',
    category: RELEASE,
    source: () => INERT,
    setup: traversable,
    files: (w) => releaseFiles(GREEDY_LAUNCHER(w)),
    check: (w, o) => {
      const problems = releaseRefused(/its self-test failed/)(w, o);
      const message = o.report.orchestrator.message ?? '';
      if (!/sentinel: EACCES/.test(message)) problems.push(`the self-test did not report being refused the sentinel: ${message.slice(0, 400)}`);
      if (!/env: \{\}/.test(message)) problems.push('the self-test saw an environment');
      if (message.includes(`outside secret ${w.token}`)) problems.push('the self-test read a root-only file');
      return problems;
    },
  },
  {
    name: 'release-build-step-plants-link',
    category: RELEASE,
    source: () => INERT,
    setup: traversable,
    files: (w) => releaseFiles('// launcher\n', {
      'scripts/prebuild-sandbox.mjs': `import { appendFileSync, mkdirSync, symlinkSync } from 'node:fs';
mkdirSync(new URL('../dist/sandbox/supervisor/prebuilt/', import.meta.url), { recursive: true });
try { appendFileSync(${JSON.stringify(w.sentinel)}, 'x'); } catch {}
symlinkSync(${JSON.stringify(w.sentinel)}, new URL('../dist/sandbox/supervisor/prebuilt/worker.js', import.meta.url));
`,
    }),
    check: releaseRefused(/the build left prebuilt\/worker\.js, which is not a plain file/),
  },
];

export const INSTALL_TREES: readonly Attack[] = [
  ...HOSTILE_TREES, ...DUPLICATE_ENTRIES, ...SYMLINK_CHAINS, ...ENTRY_OUTSIDE, ...DEGENERATE_DEADLINES, ...RELEASE_TREES,
];
