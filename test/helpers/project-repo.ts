/**
 * A fixture updates repository built from this project's own tree (the orchestrator and its example modules),
 * with changes applied on top: the input of the self-update tests.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeRepo } from './repo.js';
import type { TestRepo } from './repo.js';
import { PROJECT } from './run.js';

/** Files of the project as git sees them (tracked and new, not ignored), read from the working tree. */
function projectFiles(): Record<string, string> {
  const list = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: PROJECT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '' && !f.startsWith('test/'));
  const out: Record<string, string> = {};
  for (const f of list) {
    try {
      out[f] = readFileSync(path.join(PROJECT, f), 'utf8');
    } catch {
      // listed but deleted in the working tree
    }
  }
  return out;
}

/** Sets the version in package.json and index.json of a file map. */
export function withVersion(files: Record<string, string>, version: string): Record<string, string> {
  const pkg = JSON.parse(files['package.json'] ?? '{}') as { version: string };
  pkg.version = version;
  const idx = JSON.parse(files['index.json'] ?? '{}') as { metadata: { schema_version: string } };
  idx.metadata.schema_version = version;
  return { ...files, 'package.json': `${JSON.stringify(pkg, null, 2)}\n`, 'index.json': `${JSON.stringify(idx, null, 2)}\n` };
}

/** A repository holding the project's tree at its current version. */
export function projectRepo(): TestRepo {
  return makeRepo(projectFiles());
}

/** The current project files (for building a changed commit). */
export function currentProjectFiles(): Record<string, string> {
  return projectFiles();
}

/** Replaces `find` by `replace` in one file of the map; throws when `find` is absent (so the fixture cannot silently stop changing anything). */
export function patch(files: Record<string, string>, file: string, find: string, replace: string): Record<string, string> {
  const text = files[file];
  if (text === undefined || !text.includes(find)) throw new Error(`fixture patch: "${find}" not found in ${file}`);
  return { ...files, [file]: text.replace(find, replace) };
}
