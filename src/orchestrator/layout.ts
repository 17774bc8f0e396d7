/**
 * The install layout under the modules path (`--modules-path`, default /var/local/lib/updates):
 *
 *   index.json                 global index (seed format), derived from what is live
 *   modules/<name>          -> ../.versions/<name>/<version>-<tree>   (the live version; flipped atomically)
 *   .versions/<name>/<v>-<t>/  installed versions; `previous` links the one to roll back to, `.trial` the
 *                              live one while it has not completed its first run
 *   state/                     private git clone, run reports, holds, module stores, backups (owner only)
 *   metrics/updates.prom       Prometheus textfile metrics (readable by others; metrics_file moves it)
 */
import path from 'node:path';

export interface Layout {
  root: string;
  globalIndex: string;
  modulesDir: string;
  versionsDir: string;
  stateDir: string;
  repoDir: string;
  runsDir: string;
  lastReport: string;
  metricsFile: string;
  journal: string;
}

/** The layout of an install root. */
export function layoutOf(installRoot: string): Layout {
  const root = path.resolve(installRoot);
  const stateDir = path.join(root, 'state');
  return {
    root,
    globalIndex: path.join(root, 'index.json'),
    modulesDir: path.join(root, 'modules'),
    versionsDir: path.join(root, '.versions'),
    stateDir,
    repoDir: path.join(stateDir, 'repo.git'),
    runsDir: path.join(stateDir, 'runs'),
    lastReport: path.join(stateDir, 'last-run.json'),
    metricsFile: path.join(root, 'metrics', 'updates.prom'),
    journal: path.join(stateDir, 'journal.json'),
  };
}

/** Where a module's live link lives. */
export const liveLink = (l: Layout, name: string): string => path.join(l.modulesDir, name);
/** The folder of a module's installed versions. */
export const versionsOf = (l: Layout, name: string): string => path.join(l.versionsDir, name);
/** The link to the version a failed update rolls back to. */
export const previousLink = (l: Layout, name: string): string => path.join(l.versionsDir, name, 'previous');
/**
 * The link naming a module's version that has not completed its first run yet ("on trial"): written before the
 * live link flips to it and removed once it ran. A run that finds the live version still on trial (an earlier run
 * was killed between the flip and Phase 2) treats it as a fresh update: if it fails, it is rolled back.
 */
export const trialLink = (l: Layout, name: string): string => path.join(l.versionsDir, name, '.trial');
/** The relative target a live link holds for a version folder. */
export const linkTarget = (name: string, versionDir: string): string => path.join('..', '.versions', name, versionDir);
/** Where the orchestrator keeps what it adds to an installed module's folder. */
export const ADDED_DIR = '.updates';
export const BUNDLE_FILE = path.join(ADDED_DIR, 'bundle.cjs');
export const INSTALL_RECORD = path.join(ADDED_DIR, 'install.json');
/** Version folder names of seed-era module folders adopted on their first update (they have no install record). */
export const ADOPTED_PREFIX = 'adopted-';
/** The version folder name of a module at a tree: its version, then 12 hex digits of the tree. */
export const versionDirName = (version: string, treeOid: string): string => `${version}-${treeOid.slice(0, 12)}`;
/** A name versionDirName makes; group 1 is the version. */
export const VERSION_DIR_NAME = /^(.+)-[0-9a-f]{12}$/;

/**
 * Maps an absolute path under `--root` (as `dpkg --root` does). With root "/" it is the path itself.
 */
export function underRoot(root: string, p: string): string {
  if (!path.isAbsolute(p)) return path.resolve(p);
  return root === '/' ? path.normalize(p) : path.join(root, p);
}
