/**
 * Test helpers: real git repositories in temp folders, served to the orchestrator as file:// remotes.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface TestRepo {
  dir: string;
  url: string;
  /** Writes files (path → content; null deletes) and commits them; returns the new commit. */
  commit(files: Record<string, string | null>, message?: string): string;
  git(...args: string[]): string;
}

export function tempDir(tag = 'uo-test'): string {
  return mkdtempSync(path.join(os.tmpdir(), `${tag}-`));
}

/**
 * A new temp folder that other users may pass through (mkdtemp makes 0700 ones), as /var/local/lib is: a
 * self-update's build and self-test run as the sandbox user, who must reach the release folder under it.
 */
export function traversableDir(tag = 'uo-test'): string {
  const dir = tempDir(tag);
  chmodSync(dir, 0o755);
  return dir;
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** A new repository on branch main with the given first commit. */
export function makeRepo(files: Record<string, string | null>, parent = tempDir('uo-repo')): TestRepo {
  const dir = path.join(parent, 'source');
  mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: GIT_ENV, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  const repo: TestRepo = {
    dir,
    url: pathToFileURL(dir).href,
    git,
    commit(changes, message = 'change') {
      for (const [rel, content] of Object.entries(changes)) {
        const p = path.join(dir, rel);
        if (content === null) rmSync(p, { recursive: true, force: true });
        else {
          mkdirSync(path.dirname(p), { recursive: true });
          writeFileSync(p, content);
        }
      }
      git('add', '-A');
      git('commit', '-q', '--allow-empty', '-m', message);
      return git('rev-parse', 'HEAD');
    },
  };
  repo.commit(files, 'initial');
  return repo;
}

export interface ModuleSpec {
  version: string;
  enabled?: boolean;
  priority?: number;
  /** Body of main(); default returns success. */
  body?: string;
  capabilities?: unknown;
  configuration?: Record<string, unknown>;
  timeoutSeconds?: number;
}

/** The files of one module at `modules/<name>/`. */
export function moduleFiles(name: string, spec: ModuleSpec): Record<string, string> {
  const manifest = {
    metadata: {
      schema_version: spec.version,
      name,
      description: `test module ${name}`,
      enabled: spec.enabled ?? true,
      ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
      ...(spec.timeoutSeconds !== undefined ? { timeout_seconds: spec.timeoutSeconds } : {}),
    },
    configuration: spec.configuration ?? {},
    ...(spec.capabilities !== undefined ? { capabilities: spec.capabilities } : {}),
  };
  const body = spec.body ?? `return { success: true, message: '${name} ${spec.version}' };`;
  return {
    [`modules/${name}/index.json`]: `${JSON.stringify(manifest, null, 2)}\n`,
    [`modules/${name}/index.ts`]: `import { log } from 'updates-orchestrator/sdk';\nexport async function main(): Promise<{ success: boolean; message?: string }> {\n  void log;\n  ${body}\n}\n`,
  };
}

/** The root index.json of an updates repository. */
export function rootIndex(version = '0.1.0'): Record<string, string> {
  return { 'index.json': `${JSON.stringify({ metadata: { schema_version: version, channel: 'stable' } }, null, 2)}\n` };
}
