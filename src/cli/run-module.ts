/**
 * `updates run-module DIR [-- args...]`: runs one module from a folder, as Phase 2 would, for module authors.
 * It bundles the folder (the same build checks as an install), then runs main() in the sandbox with a broker
 * that enforces the module's declared capabilities. By default nothing outside DIR/.updates-dev is touched:
 * declared paths map under DIR/.updates-dev/root and service requests are only recorded.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UpdatesError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { parseModuleManifest } from '../core/manifest.js';
import { runInSandbox, withSandbox } from '../orchestrator/phase2.js';
import { bundleModule } from '../sandbox/build/bundle.js';
import type { PlannedChange } from '../broker/planner.js';

export interface RunModuleOptions {
  dir: string;
  args: string[];
  /** --root; default DIR/.updates-dev/root. */
  root?: string;
  services?: 'systemctl' | 'record';
  moduleTimeoutSeconds?: number;
  logger: Logger;
  /** --check: plan instead of act (`diff`: with unified diffs of planned writes). */
  check?: { diff: boolean };
}

export interface RunModuleResult {
  module: string;
  status: string;
  result?: unknown;
  error?: { code: string; message: string };
  root: string;
  stateDir: string;
  durationMs: number;
  /** --check: what the module would have changed. */
  planned?: { changes: readonly PlannedChange[]; dropped: number };
}

/** Runs the module; returns its outcome (exit code 0 when `status` is ok). Throws E_USAGE/E_MANIFEST_INVALID/E_BUILD. */
export async function runModule(o: RunModuleOptions): Promise<RunModuleResult> {
  const dir = path.resolve(o.dir);
  const name = path.basename(dir);
  const text = await fsp.readFile(path.join(dir, 'index.json'), 'utf8').catch(() => {
    throw new UpdatesError('E_USAGE', { detail: `${dir} has no index.json; run-module needs a module folder` });
  });
  const parsed = parseModuleManifest(text, name);
  if (!parsed.ok) throw new UpdatesError('E_MANIFEST_INVALID', { module: name, detail: parsed.reason });
  const code = await bundleModule(dir, name);
  const dev = path.join(dir, '.updates-dev');
  const root = o.root ?? path.join(dev, 'root');
  const stateDir = path.join(dev, 'state');
  await fsp.mkdir(root, { recursive: true });
  await fsp.mkdir(stateDir, { recursive: true });
  const m = parsed.manifest;
  // The scratch root starts empty: give each declared path the parent folders a real system has.
  if (o.root === undefined) for (const grant of m.capabilities.paths) await fsp.mkdir(path.join(root, path.dirname(grant.path)), { recursive: true });
  const outcome = await withSandbox(
    { services: o.services ?? 'record', poolSize: 1, ...(o.moduleTimeoutSeconds !== undefined ? { moduleTimeoutSeconds: o.moduleTimeoutSeconds } : {}) },
    { root, stateDir, logger: o.logger },
    (sandbox) =>
      runInSandbox(sandbox, {
        name,
        version: m.metadata.schema_version,
        code,
        capabilities: m.capabilities,
        configuration: m.configuration,
        timeoutSeconds: m.metadata.timeout_seconds,
        maxMemoryMb: m.metadata.max_memory_mb,
        args: o.args,
        ...(o.check !== undefined ? { check: o.check } : {}),
      }),
  );
  return {
    module: name,
    status: outcome.status,
    ...(outcome.result !== undefined ? { result: outcome.result } : {}),
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    root,
    stateDir,
    durationMs: outcome.durationMs,
    ...(outcome.planned !== undefined ? { planned: outcome.planned } : {}),
  };
}
