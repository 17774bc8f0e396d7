// Test harness for the broker: a temp --root with a /srv/demo tree, a temp state folder, and captured audit lines.
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { ModuleBroker, recordingBackend } from '../../src/broker/broker.js';
import type { BrokerLimits } from '../../src/broker/broker.js';
import type { Planner } from '../../src/broker/planner.js';
import { capabilitiesSchema } from '../../src/core/manifest.js';
import type { Reply, WireError } from '../../src/sdk/protocol.js';

/** One parsed log line. */
export type LogLine = Record<string, unknown>;

/** A broker over temp folders, and the means to talk to it and read its logs. */
export interface Harness {
  broker: ModuleBroker;
  /** The --root mapping. */
  root: string;
  stateDir: string;
  /** A folder outside the root, for symlink escapes. */
  outside: string;
  /** Where the recording service backend writes. */
  servicesFile: string;
  lines: LogLine[];
  /** Host path of a module path. */
  host(p: string): string;
  call(method: string, params: unknown): Promise<Reply>;
  /** Another broker for the same module and folders (a second run), optionally with other capabilities or options. */
  again(capabilities?: unknown, more?: HarnessOptions): ModuleBroker;
  cleanup(): Promise<void>;
}

/** Options of a harness. */
export interface HarnessOptions {
  module?: string;
  limits?: Partial<BrokerLimits>;
  /** The orchestrator's own files (host paths) the broker must never reach. */
  ownFiles?: string[];
  /** Check mode: the broker plans into this instead of acting. */
  plan?: Planner;
}

let nextId = 1;

/** Makes a harness; `capabilities` is the manifest's capabilities section (parsed here, as the orchestrator does). */
export async function makeHarness(capabilities: unknown, opts: HarnessOptions = {}): Promise<Harness> {
  const base = await fsp.mkdtemp(path.join(os.tmpdir(), 'broker-test-'));
  const root = path.join(base, 'root');
  const stateDir = path.join(base, 'state');
  const outside = path.join(base, 'outside');
  for (const d of [path.join(root, 'srv/demo'), stateDir, outside]) await fsp.mkdir(d, { recursive: true });
  await fsp.writeFile(path.join(outside, 'secret.txt'), 'top secret\n');
  const servicesFile = path.join(base, 'services.jsonl');
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  const make = (caps: unknown = capabilities, more: HarnessOptions = {}): ModuleBroker => {
    const o = { ...opts, ...more };
    return new ModuleBroker({
      module: o.module ?? 'demo',
      capabilities: capabilitiesSchema.parse(caps),
      root,
      stateDir,
      logger: pino({ level: 'debug', base: null }, sink),
      services: recordingBackend(servicesFile),
      ...(o.limits !== undefined ? { limits: o.limits } : {}),
      ...(o.ownFiles !== undefined ? { ownFiles: o.ownFiles } : {}),
      ...(o.plan !== undefined ? { plan: o.plan } : {}),
    });
  };
  const broker = make();
  return {
    broker, root, stateDir, outside, servicesFile, lines,
    host: (p) => path.join(root, p),
    call: (method, params) => broker.handle({ v: 1, id: nextId++, method, params }),
    again: (caps, more) => make(caps, more),
    cleanup: async () => {
      broker.close();
      await fsp.rm(base, { recursive: true, force: true });
    },
  };
}

/** The result of a successful reply (fails the test otherwise). */
export function ok<T = Record<string, unknown>>(reply: Reply): T {
  assert.equal(reply.ok, true, `expected success, got ${JSON.stringify(reply)}`);
  return (reply as { result: T }).result;
}

/** The error of a failed reply, checked to carry `code`. */
export function err(reply: Reply, code: string): WireError {
  assert.equal(reply.ok, false, `expected ${code}, got ${JSON.stringify(reply)}`);
  const error = (reply as { error: WireError }).error;
  assert.equal(error.code, code, `expected ${code}, got ${JSON.stringify(error)}`);
  assert.ok(!('stack' in error), 'no stack crosses the channel');
  return error;
}

/** Asserts one audit line matches every given field, and returns it. */
export function audited(lines: LogLine[], fields: LogLine): LogLine {
  const hit = lines.find((l) => l['audit'] === true && Object.entries(fields).every(([k, v]) => JSON.stringify(l[k]) === JSON.stringify(v)));
  assert.ok(hit, `no audit line with ${JSON.stringify(fields)} in:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
  return hit;
}

/** A grant on /srv/demo with the given access and owner lists. */
export function demoGrant(access: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { path: '/srv/demo', access, ...extra };
}
