/**
 * Phase 2, service management: run the main() of every enabled module, in priority order, each in the
 * sandbox with its own broker. A module updated in this run that fails is rolled back to its previous version,
 * which then runs once; the failed version is held so later runs do not install it again.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ModuleBroker } from '../broker/broker.js';
import { recordingBackend, systemctlBackend } from '../broker/services.js';
import type { ServiceBackend } from '../broker/services.js';
import { SandboxPool } from '../sandbox/pool.js';
import type { ModuleOutcome } from '../sandbox/pool.js';
import { DEFAULTS } from './defaults.js';
import { rollback } from './install.js';
import { readInstalled, readOne } from './installed.js';
import type { InstalledModule } from './installed.js';
import { BUNDLE_FILE } from './layout.js';
import type { ModuleEntry } from './report.js';
import type { Phase2, Phase2Context } from './run.js';

export interface Phase2Options {
  services: 'systemctl' | 'record';
  poolSize?: number;
  /** Overrides every module's metadata.timeout_seconds. */
  moduleTimeoutSeconds?: number;
}

/** Builds the Phase 2 step of a run. */
export function createPhase2(options: Phase2Options): Phase2 {
  return async (ctx) => {
    const services: ServiceBackend =
      options.services === 'record' ? recordingBackend(path.join(ctx.layout.stateDir, 'services.log')) : systemctlBackend();
    const pool = new SandboxPool({ size: options.poolSize ?? DEFAULTS.poolSize, logger: ctx.logger.child({ zone: 'sandbox' }) });
    try {
      const installed = await readInstalled(ctx.layout);
      const runnable: InstalledModule[] = [];
      for (const m of installed) {
        if (m.manifest === undefined) {
          ctx.report.modules.push({ module: m.name, status: 'failed', code: 'E_MANIFEST_INVALID', message: `installed copy is unusable: ${m.problem ?? 'unknown'}` });
        } else if (!m.manifest.metadata.enabled) {
          ctx.report.modules.push({ module: m.name, status: 'disabled', ...(m.version ? { version: m.version } : {}) });
        } else runnable.push(m);
      }
      ctx.logger.info({ enabled: runnable.length }, `running ${runnable.length} enabled module(s)`);
      for (const group of byPriority(runnable)) {
        await Promise.all(group.map((m) => runWithRollback(ctx, pool, services, options, m)));
      }
      const ok = ctx.report.modules.filter((m) => m.status === 'ok').length;
      ctx.logger.info({ ok, failed: runnable.length - ok }, `module execution completed: ${ok} successful, ${runnable.length - ok} failed`);
    } finally {
      await pool.destroy();
    }
  };
}

/** Groups modules by ascending priority; names sorted within a group (deterministic order). */
export function byPriority(mods: InstalledModule[]): InstalledModule[][] {
  const groups = new Map<number, InstalledModule[]>();
  for (const m of mods) {
    const p = m.manifest?.metadata.priority ?? DEFAULTS.modulePriority;
    groups.set(p, [...(groups.get(p) ?? []), m]);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([, g]) => g.sort((x, y) => (x.name < y.name ? -1 : 1)));
}

async function runWithRollback(ctx: Phase2Context, pool: SandboxPool, services: ServiceBackend, options: Phase2Options, m: InstalledModule): Promise<void> {
  const outcome = await runModule(ctx, pool, services, options, m);
  const updated = ctx.phase1.updated.get(m.name);
  if (outcome.status === 'ok' || updated === undefined) {
    ctx.report.modules.push(entryOf(m, outcome));
    return;
  }
  const reason = outcome.error?.message ?? outcome.status;
  const back = await rollback(ctx.layout, m.name);
  if (back === undefined) {
    ctx.report.modules.push(entryOf(m, outcome));
    return;
  }
  ctx.journal.held[m.name] = { version: updated.to, reason: reason.slice(0, 500), at: new Date().toISOString() };
  ctx.logger.warn({ module: m.name, from: updated.to, to: back }, `module ${m.name} ${updated.to} failed its first run; rolled back to its previous version`);
  const upd = ctx.report.updates.find((u) => u.module === m.name);
  if (upd !== undefined) {
    upd.status = 'rolled-back';
    upd.message = reason;
  }
  const old = await readOne(ctx.layout, m.name);
  const rerun = old?.manifest !== undefined ? await runModule(ctx, pool, services, options, old) : undefined;
  ctx.report.modules.push({
    ...entryOf(m, outcome),
    status: 'rolled-back',
    message: `${updated.to} failed (${reason}); rolled back to ${old?.version ?? back}, which ${rerun === undefined ? 'could not run' : rerun.status === 'ok' ? 'ran successfully' : `failed too: ${rerun.error?.message ?? rerun.status}`}`,
  });
  if (rerun !== undefined && rerun.status !== 'ok' && old !== undefined) ctx.report.modules.push({ ...entryOf(old, rerun), module: m.name });
}

async function runModule(ctx: Phase2Context, pool: SandboxPool, services: ServiceBackend, options: Phase2Options, m: InstalledModule): Promise<ModuleOutcome> {
  const manifest = m.manifest;
  if (manifest === undefined) throw new Error(`runModule: ${m.name} has no manifest`);
  const logger = ctx.logger.child({ module: m.name });
  let code: string;
  try {
    code = await fsp.readFile(path.join(m.dir, BUNDLE_FILE), 'utf8');
  } catch {
    return { module: m.name, status: 'failed', durationMs: 0, error: { code: 'E_BUILD', message: `module "${m.name}" has no built bundle (installed by an older orchestrator?); it is rebuilt when its next version installs` } };
  }
  const broker = new ModuleBroker({ module: m.name, capabilities: manifest.capabilities, root: ctx.root, stateDir: ctx.layout.stateDir, logger, services });
  logger.info({ version: m.version }, `executing module ${m.name}`);
  const outcome = await pool.run({
    module: m.name,
    code,
    configuration: manifest.configuration,
    args: [],
    timeoutMs: Math.round((options.moduleTimeoutSeconds ?? manifest.metadata.timeout_seconds) * 1000),
    maxMemoryMb: manifest.metadata.max_memory_mb,
    broker,
  });
  if (outcome.status === 'ok') logger.info({ durationMs: outcome.durationMs, changed: outcome.result?.changed }, `✓ module ${m.name} executed successfully`);
  else logger.error({ status: outcome.status, code: outcome.error?.code }, `✗ ${outcome.error?.message ?? `module ${m.name}: ${outcome.status}`}`);
  return outcome;
}

function entryOf(m: InstalledModule, o: ModuleOutcome): ModuleEntry {
  return {
    module: m.name,
    status: o.status,
    ...(m.version !== undefined ? { version: m.version } : {}),
    durationMs: o.durationMs,
    ...(o.result?.changed !== undefined ? { changed: o.result.changed } : {}),
    ...(o.result?.message !== undefined ? { message: o.result.message } : {}),
    ...(o.error !== undefined ? { code: o.error.code, message: o.error.message } : {}),
  };
}
