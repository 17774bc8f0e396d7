/**
 * Legacy mode, one child of the entrypoint: look it up in manifest.json, verify its folder's checksum, load or
 * build its bundle and read what it may do. The result is a module ready for the sandbox, or the report entry
 * saying why it does not run.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DEFAULTS } from '../../core/defaults.js';
import { UpdatesError, messageOf } from '../../core/errors.js';
import type { ErrorCode } from '../../core/errors.js';
import type { BuildModule } from '../install.js';
import { BUNDLE_FILE } from '../layout.js';
import type { Layout } from '../layout.js';
import type { Logger } from '../../core/logger.js';
import { parseModuleManifest } from '../../core/manifest.js';
import type { RunnableModule } from '../phase2.js';
import type { ModuleEntry } from '../report.js';
import { folderChecksum, moduleFolder } from './checksum.js';
import type { LegacyManifest } from './manifest.js';
import { errnoCode } from '../../core/errno.js';

/** A child either runs, or is reported as is (disabled, refused, not runnable). */
export type ChildPlan = { runs: true; module: RunnableModule } | { runs: false; entry: ModuleEntry };

export interface ChildContext { layout: Layout; manifest: LegacyManifest; build: BuildModule; logger: Logger }

/** What a child may do when its index.json is absent or invalid: nothing (deny by default), default limits. */
const NO_GRANTS = {
  capabilities: { paths: [], commands: [], services: [] },
  configuration: {},
  timeoutSeconds: DEFAULTS.moduleTimeoutSeconds,
  maxMemoryMb: DEFAULTS.moduleMaxMemoryMb,
} as const satisfies Omit<RunnableModule, 'name' | 'code'>;

function failed(module: string, code: string, message: string, version?: string): ChildPlan {
  return { runs: false, entry: { module, status: 'failed', code, message, ...(version ? { version } : {}) } };
}

function refused(module: string, code: ErrorCode, detail: string, version?: string): ChildPlan {
  return failed(module, code, new UpdatesError(code, { module, detail }).message, version);
}

/** Prepares one child of the entrypoint. Never throws: every problem is that child's report entry. */
export async function prepareChild(ctx: ChildContext, name: string): Promise<ChildPlan> {
  const entry = ctx.manifest.updates.find((u) => u.name === name);
  if (entry === undefined) return refused(name, 'E_LEGACY_CHILD', `child of the entrypoint "${ctx.manifest.entrypoint}" is not an entry of updates in manifest.json; add an entry for it`);
  const version = entry.version ?? undefined;
  if (!entry.enabled) return { runs: false, entry: { module: name, status: 'disabled', ...(version ? { version } : {}) } };
  if (entry.checksum == null) return refused(name, 'E_LEGACY_CHILD', 'has no checksum in manifest.json; unverified code is not run', version);
  try {
    const folder = await moduleFolder(ctx.layout.modulesDir, name);
    if (folder === undefined) return refused(name, 'E_LEGACY_CHILD', `is not installed: modules/${name} does not exist`, version);
    if ('problem' in folder) return refused(name, 'E_MODULE_CONTENT', folder.problem, version);
    const actual = await folderChecksum(folder.dir);
    if (actual !== entry.checksum) {
      ctx.logger.error({ module: name, expected: entry.checksum, actual }, `refusing module ${name}: its folder does not match its checksum`);
      return failed(name, 'E_CHECKSUM', new UpdatesError('E_CHECKSUM', { module: name, expected: entry.checksum, actual }).message, version);
    }
    // The bundle is read (or built) right after the folder verified; the run lock keeps other runs out meanwhile.
    const code = await loadCode(ctx, folder.dir, name);
    const grants = await readGrants(folder.dir, name, ctx.logger);
    return { runs: true, module: { name, ...(version ? { version } : {}), code, ...grants } };
  } catch (err) {
    if (err instanceof UpdatesError) return failed(name, err.code, err.message, version);
    return refused(name, 'E_MODULE_CONTENT', `cannot be read: ${messageOf(err)}`, version);
  }
}

/** The module's `.updates/bundle.cjs` when it has one; else it is bundled now (a legacy module was not installed by this orchestrator). */
async function loadCode(ctx: ChildContext, dir: string, name: string): Promise<string> {
  try {
    return await fsp.readFile(path.join(dir, BUNDLE_FILE), 'utf8');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  ctx.logger.info({ module: name }, `module ${name} has no built bundle; bundling it from its sources`);
  return ctx.build(dir, name);
}

/** Capabilities, configuration and limits from the child's index.json when present and valid, else none. */
async function readGrants(dir: string, name: string, logger: Logger): Promise<Omit<RunnableModule, 'name' | 'code'>> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(dir, 'index.json'), 'utf8');
  } catch {
    logger.info({ module: name }, `module ${name} has no index.json; it runs with no capabilities`);
    return NO_GRANTS;
  }
  const parsed = parseModuleManifest(text, name);
  if (!parsed.ok) {
    logger.warn({ module: name, reason: parsed.reason }, `module ${name}: its index.json is invalid (${parsed.reason}); it runs with no capabilities`);
    return NO_GRANTS;
  }
  const { capabilities, configuration, metadata } = parsed.manifest;
  return { capabilities, configuration, timeoutSeconds: metadata.timeout_seconds, maxMemoryMb: metadata.max_memory_mb };
}
