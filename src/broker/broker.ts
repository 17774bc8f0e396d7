// The broker of one module's run: validates each SDK request, checks it against the module's capabilities, acts, audits.
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { UpdatesError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { MODULE_NAME_RE } from '../core/manifest.js';
import type { Capabilities } from '../core/manifest.js';
import { PROTOCOL_VERSION } from '../sdk/protocol.js';
import type { Reply } from '../sdk/protocol.js';
import { subjectOf } from './audit.js';
import type { Decision } from './audit.js';
import type { HandlerContext } from './handlers/context.js';
import { resolveLimits } from './limits.js';
import type { BrokerLimits } from './limits.js';
import type { OwnFiles } from './paths.js';
import type { Planner } from './planner.js';
import { Policy } from './policy.js';
import { loadHostPrincipals } from './principals.js';
import { bestEffortId, cloneMessage, NO_ID, parseRequest, precheck, rawMethod } from './request.js';
import { route } from './router.js';
import type { ServiceBackend } from './services.js';
import { ModuleStore } from './store.js';
import { isDenial, toWireError } from './wire.js';

export type { BrokerLimits } from './limits.js';
export type { ServiceBackend } from './services.js';
export { systemctlBackend, recordingBackend } from './services.js';

/** Everything the broker of one module's run needs; built by the orchestrator when it makes the channel. */
export interface BrokerContext {
  /** Identity: bound when the channel is made, never read from a message. */
  module: string;
  /** From the module's manifest (already zod-parsed). */
  capabilities: Capabilities;
  /** The --root mapping: '/' for none; a declared or requested absolute path P maps to join(root, P). */
  root: string;
  /** `<install root>/state`: backups under backups/<module>/, the store at store/<module>.json. */
  stateDir: string;
  /** A pino child already bound to run id and module; one audit line per decision. */
  logger: Logger;
  services: ServiceBackend;
  limits?: Partial<BrokerLimits>;
  /**
   * The orchestrator's own files and folders (the install root, a custom local repository, the allowed-signers and
   * config files), wherever they are: no grant reaches them or anything below them.
   */
  ownFiles?: readonly string[];
  /**
   * `ownFiles` already resolved by resolveOwnFiles for these folders (a sandbox resolves them once for all its
   * modules); when absent the broker resolves them itself.
   */
  resolvedOwnFiles?: OwnFiles;
  /** Check mode: requests that would change something are planned here instead of performed. */
  plan?: Planner;
}

/** Serves one module's SDK requests for one run. Deny by default; after close() every request is refused. */
export class ModuleBroker {
  private readonly policy: Policy;
  private readonly store: ModuleStore;
  private readonly limits: Readonly<BrokerLimits>;
  /** Aborted by close(), for the handlers still running (commands, walks, sleeps); made on first use. */
  private ended: AbortController | undefined;
  private closed = false;
  private inFlight = 0;
  private requests = 0;
  private deniedCount = 0;
  /** Denials past the request cap are counted, not logged one by one, so a flood cannot flood the log. */
  private suppressed = 0;

  constructor(private readonly ctx: BrokerContext) {
    if (!MODULE_NAME_RE.test(ctx.module)) throw new UpdatesError('E_INTERNAL', { detail: 'broker made for an invalid module name' });
    if (!ctx.root.startsWith('/') || !ctx.stateDir.startsWith('/')) {
      throw new UpdatesError('E_INTERNAL', { detail: 'broker root and state folder must be absolute' });
    }
    this.limits = resolveLimits(ctx.limits);
    this.policy = new Policy(ctx.capabilities, ctx.root, () => loadHostPrincipals(), ctx.resolvedOwnFiles ?? resolveOwnFiles(ctx.stateDir, ctx.ownFiles ?? []));
    this.store = new ModuleStore(ModuleStore.fileFor(ctx.stateDir, ctx.module), this.limits.storeMaxBytes);
  }

  /** Requests seen and requests denied so far. */
  get stats(): { requests: number; denied: number } {
    return { requests: this.requests, denied: this.deniedCount };
  }

  /**
   * Answers one message from the module's port. Never throws: every outcome is a reply, with the message's
   * id when it had a valid one, else -1 (NO_ID).
   */
  async handle(raw: unknown): Promise<Reply> {
    this.requests += 1;
    const pre = precheck(raw, this.limits.maxRequestBytes);
    if (!pre.ok) {
      // refused before any copy or validation walks it: its cost is bounded by the limits, not by its size
      const error = toWireError(new UpdatesError(pre.code ?? 'E_BAD_REQUEST', { method: pre.method, detail: pre.detail ?? 'not plain data' }), pre.method);
      this.deniedCount += 1;
      this.audit('denied', pre.method, { code: error.code });
      return { v: PROTOCOL_VERSION, id: pre.id, ok: false, error };
    }
    const copy = cloneMessage(raw);
    const id = copy.ok ? bestEffortId(copy.value) : NO_ID;
    let method = (copy.ok ? rawMethod(copy.value) : undefined) ?? 'unknown';
    let subject: Record<string, unknown> = {};
    const notes: Record<string, unknown> = {};
    try {
      this.admit(method);
      const req = parseRequest(copy);
      method = req.method;
      subject = subjectOf(req.method, req.params);
      this.inFlight += 1;
      let result: unknown;
      try {
        result = await route(req.method, req.params, this.handlerContext(notes));
      } finally {
        this.inFlight -= 1;
      }
      this.audit('allowed', method, { ...subject, ...notes });
      return { v: PROTOCOL_VERSION, id: req.id, ok: true, result };
    } catch (err) {
      const error = toWireError(err, method);
      const decision: Decision = isDenial(error.code) ? 'denied' : 'failed';
      if (decision === 'denied') this.deniedCount += 1;
      if (error.code === 'E_INTERNAL') this.ctx.logger.error({ err, method }, 'broker internal error');
      this.audit(decision, method, { ...subject, ...notes, code: error.code });
      return { v: PROTOCOL_VERSION, id, ok: false, error };
    }
  }

  /** Ends the run: later requests get E_RUN_ENDED and running commands are killed. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ended?.abort();
    if (this.suppressed > 0) {
      this.ctx.logger.warn({ audit: true, decision: 'denied', code: 'E_LIMIT', suppressed: this.suppressed }, 'requests over the limit, not logged one by one');
    }
  }

  private endedSignal(): AbortSignal {
    if (this.ended === undefined) {
      this.ended = new AbortController();
      if (this.closed) this.ended.abort();
    }
    return this.ended.signal;
  }

  /** Refusals that come before parsing: run ended, request cap, in-flight cap. */
  private admit(method: string): void {
    if (this.closed) throw new UpdatesError('E_RUN_ENDED', { method });
    if (this.requests > this.limits.maxRequests) {
      throw new UpdatesError('E_LIMIT', { method, detail: `more than ${this.limits.maxRequests} SDK requests in one run` });
    }
    if (this.inFlight >= this.limits.maxInFlight) {
      throw new UpdatesError('E_LIMIT', { method, detail: `more than ${this.limits.maxInFlight} SDK requests in flight; await earlier calls` });
    }
  }

  private handlerContext(notes: Record<string, unknown>): HandlerContext {
    const { module, stateDir, logger, services } = this.ctx;
    const signal = (): AbortSignal => this.endedSignal();
    return {
      module, stateDir, logger, services,
      policy: this.policy,
      limits: this.limits,
      store: this.store,
      // Most requests (a log line, a clock read) never look at it: an AbortController per run costs more than they do.
      get signal() {
        return signal();
      },
      note: (fields) => Object.assign(notes, fields),
      ...(this.ctx.plan !== undefined ? { plan: this.ctx.plan } : {}),
    };
  }

  /** One line per decision: info when allowed, warn when denied or failed. */
  private audit(decision: Decision, method: string, fields: Record<string, unknown>): void {
    if (decision !== 'allowed' && fields['code'] === 'E_LIMIT' && this.requests > this.limits.maxRequests + 1) {
      this.suppressed += 1;
      return;
    }
    const line = { audit: true, method, decision, ...fields, ...(this.ctx.plan !== undefined ? { check: true } : {}) };
    if (decision === 'allowed') this.ctx.logger.info(line, `broker ${decision} ${method}`);
    else this.ctx.logger.warn(line, `broker ${decision} ${method}`);
  }
}

/**
 * The orchestrator's own files: those beside the state folder (stores and backups of every module, installed module
 * code, releases, the global index, config.json) and the ones the run names (the whole install root, a custom local
 * repository, the allowed-signers file). Real paths, so a symlinked one is matched too, and device/inode pairs, so
 * another name for the same file or folder is matched as well.
 */
export function resolveOwnFiles(stateDir: string, extra: readonly string[]): OwnFiles {
  const installRoot = path.dirname(stateDir);
  const named = [stateDir, ...['modules', '.versions', 'releases', 'index.json', 'config.json'].map((n) => path.join(installRoot, n)), ...extra];
  const paths: string[] = [];
  const inodes = new Set<string>();
  for (const p of named) {
    try {
      paths.push(realpathSync(p));
      const st = statSync(p);
      inodes.add(`${st.dev}:${st.ino}`);
    } catch {
      paths.push(path.resolve(p));
    }
  }
  return { paths, inodes };
}
