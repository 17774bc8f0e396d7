// What an attack is (a hostile module, its manifest and setup, what containment means), and the module sources' shared prelude.
import type { RunReport } from '../../src/orchestrator/report.js';
import type { TestRepo } from '../helpers/repo.js';
import { NOBODY } from './world.js';
import type { World } from './world.js';

/** Manifest fields an attack may set on its module; the rest get the suite's defaults. */
export interface AttackManifest {
  timeout_seconds?: number;
  max_memory_mb?: number;
  capabilities?: unknown;
  /** Merged over the configuration every attacker gets ({ token, port, sentinel, loot }). */
  configuration?: Record<string, unknown>;
}

/** What the run looked like, for an attack's own evidence checks. */
export interface Observed {
  report: RunReport;
  /** Every log line of the run, parsed (pino JSON). */
  logs: Record<string, unknown>[];
}

/** One attack: a hostile module named `attacker`, run before the canary in one full orchestrator run. */
export interface Attack {
  name: string;
  /** The ARCHITECTURE.md attack category it belongs to. */
  category: string;
  /** The attacker's index.ts (it may be any text: it is written into the test repository, never typechecked). */
  source(w: World): string;
  /** Extra repository files (path from the repository root → content), e.g. a file outside the module folder. */
  files?(w: World): Record<string, string>;
  /** Extra symlinks in the repository (path → link target), committed as git symlinks. */
  links?: Record<string, string>;
  manifest?(w: World): AttackManifest;
  /**
   * 'build': the install must refuse the module (it is never activated); 'run' (default): it runs and must fail;
   * 'sync': git's object check must refuse the fetch itself (nothing fetched, nothing installed, so no canary).
   */
  expect?: 'build' | 'run' | 'sync';
  /**
   * Rewrites the repository's head with raw git objects (trees no `git add` makes: `..`, a name twice...), after
   * `files` and `links` are committed.
   */
  tree?(repo: TestRepo, w: World): void;
  /**
   * How the commit reaches the orchestrator: 'fetch' (default), or 'seeded': its objects are copied into the
   * private clone before the run, as a clone fed without git's object check would hold them, so the
   * orchestrator's own tree checks and writer face them.
   */
  via?: 'fetch' | 'seeded';
  /** Prepares the world before the run (plants symlinks, big files). */
  setup?(w: World): void;
  /** Runs during Phase 2 (e.g. a racer swapping a folder for a symlink); returns its stop function. */
  during?(w: World): () => void;
  /** Attack-specific evidence: each string returned is a containment failure. */
  check?(w: World, o: Observed): string[];
}

/** The attacker's default grants: write on /srv/demo (owner/group nobody only), read on /srv/ro. */
export const DEFAULT_CAPABILITIES = {
  paths: [
    { path: '/srv/demo', access: ['read', 'write', 'chmod', 'chown', 'backup'], owners: [NOBODY], groups: [NOBODY] },
    { path: '/srv/ro', access: ['read'] },
  ],
  commands: [['uname', '-sr']],
  services: ['demo'],
};

/**
 * Prepended to every attacker's source. `attempt` runs one probe: a probe that resolves to something truthy
 * REACHED what it tried (the module then returns success: true, which the suite counts as not contained);
 * a probe that throws or resolves to nothing was blocked. `done()` is main()'s return value.
 * `reachHost` tries every path the suite knows to the host's `process` from inside a compartment.
 */
export const PRELUDE = String.raw`
import * as sdk from 'updates-orchestrator/sdk';
const cfg = sdk.config as { token: string; port: number; sentinel: string; secretName: string; hostPid: number };
// Built at run time so the loot string never appears in the module's source or bundle.
const LOOT = ['PWN', 'ED-'].join('') + cfg.token;
const lines: string[] = [];
let reached = false;
function describe(v: unknown): string {
  try { return typeof v === 'string' ? v.slice(0, 200) : typeof v; } catch { return 'undescribable'; }
}
function errText(e: unknown): string {
  try { return e instanceof Error ? e.name + ': ' + e.message : String(e); } catch { return 'unprintable'; }
}
async function attempt(name: string, probe: () => unknown): Promise<unknown> {
  try {
    const v = await probe();
    if (v === undefined || v === null || v === false || v === '') { lines.push(name + ': nothing'); return undefined; }
    reached = true;
    lines.push(name + ': REACHED ' + describe(v));
    return v;
  } catch (e) {
    lines.push(name + ': blocked (' + errText(e).slice(0, 300) + ')');
    return undefined;
  }
}
function done(): { success: boolean; message: string } {
  return { success: reached, message: (reached ? 'ATTACK SUCCEEDED\n' : 'all blocked\n') + lines.join('\n').slice(0, 7000) };
}
const ctorOf = (v: unknown): any => (v as { constructor: unknown }).constructor;
const PROC_SRC = 'return typeof process === "undefined" ? undefined : process';
const hostPaths: Array<[string, () => unknown]> = [
  ['globalThis.process', () => (globalThis as any).process],
  ['globalThis.global.process', () => (globalThis as any).global?.process],
  ['Function(return process)', () => Function(PROC_SRC)()],
  ['Function(this.process) sloppy', () => Function('return this && this.process')()],
  ['sdk function constructor chain', () => ctorOf(ctorOf(sdk.log.info))(PROC_SRC)()],
  ['SdkError constructor chain', () => ctorOf(ctorOf(sdk.SdkError))(PROC_SRC)()],
  ['async function constructor', () => ctorOf(async function () {})(PROC_SRC)()],
  ['generator function constructor', () => ctorOf(function* () {})('yield typeof process === "undefined" ? undefined : process')().next().value],
  ['async generator constructor', async () => (await ctorOf(async function* () {})('yield typeof process === "undefined" ? undefined : process')().next()).value],
  ['SDK promise constructor chain', () => ctorOf(ctorOf(sdk.store.keys()))(PROC_SRC)()],
  ['rejected SDK call error chain', async () => {
    try { await sdk.fs.readFile('/nope/not/declared'); } catch (e) { return ctorOf(ctorOf(e))(PROC_SRC)(); }
    return undefined;
  }],
  ['DataCloneError chain', async () => {
    try { await sdk.store.set('k', (() => 1) as any); } catch (e) { return ctorOf(ctorOf(e))(PROC_SRC)(); }
    return undefined;
  }],
  ['indirect eval', () => (0, eval)(PROC_SRC.replace('return ', ''))],
  ['new Compartment().globalThis.process', () => new (globalThis as any).Compartment().globalThis.process],
  ['module-scope require computed', () => { const r = require; return r(['pro', 'cess'].join('')); }],
  ['require.main / require.cache', () => (require as any).main ?? (require as any).cache],
  ['module.constructor._load', () => (ctorOf(module as any) as any)?._load?.('process')],
  ['Error.prepareStackTrace getThis', () => {
    const E = Error as any;
    let found: unknown;
    const old = E.prepareStackTrace;
    E.prepareStackTrace = (_e: unknown, frames: any[]) => {
      for (const f of frames) {
        const t = f?.getThis?.();
        const fn = f?.getFunction?.();
        if (t && typeof t === 'object' && ('pid' in t || 'postMessage' in t)) found = t;
        if (fn) { try { const p = ctorOf(fn)(PROC_SRC)(); if (p) found = p; } catch { /* blocked */ } }
      }
      return '';
    };
    void new Error('probe').stack;
    E.prepareStackTrace = old;
    return found;
  }],
  ['Error.captureStackTrace frames', () => {
    const o: any = {};
    (Error as any).captureStackTrace?.(o);
    return typeof o.stack === 'object' ? o.stack : undefined;
  }],
];
/** The first way to the host's process that works, or undefined; logs every try. */
async function reachHost(): Promise<any> {
  for (const [name, get] of hostPaths) {
    const p = await attempt('reach process via ' + name, get);
    if (p !== undefined) return p;
  }
  return undefined;
}
/** A Node built-in through a reached process (getBuiltinModule, mainModule.require, binding). */
function builtin(proc: any, name: string): any {
  return proc?.getBuiltinModule?.(name) ?? proc?.mainModule?.require?.(name) ?? undefined;
}
`;

/** A module source: the prelude, then `body` as main()'s body (it must end with `return done();`). */
export function hostile(body: string): string {
  return `${PRELUDE}\nexport async function main(): Promise<{ success: boolean; message: string }> {\n${body}\n}\n`;
}
