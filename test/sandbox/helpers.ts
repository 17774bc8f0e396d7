// Test helpers for the sandbox: fixture bundling, a recording fake broker, and job construction.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleModule } from '../../src/sandbox/build/bundle.js';
import type { ModuleJob } from '../../src/sandbox/supervisor/pool.js';

/** Folder of the sandbox fixture modules. */
export const FIXTURES = fileURLToPath(new URL('../fixtures/sandbox/', import.meta.url));

/** Bundles the fixture module `name` with the real bundler. */
export function bundleFixture(name: string): Promise<string> {
  return bundleModule(path.join(FIXTURES, name), name);
}

/** A raw request as the fake broker saw it, and whether the run had already been closed then. */
export interface Seen {
  raw: { v: number; id: number; method: string; params: Record<string, unknown> };
  afterClose: boolean;
}

/**
 * A test double of the broker (the sandbox under test is real): it records every request and answers
 * `answer(raw)`, by default `{ v: 1, id, ok: true, result: null }`.
 */
export class FakeBroker {
  readonly seen: Seen[] = [];
  closeCount = 0;
  constructor(
    private readonly answer: (raw: Seen['raw']) => unknown = (raw) => ({ v: 1, id: raw.id, ok: true, result: null }),
    /** Awaited before each answer: lets a test hold replies until something else happened (no sleeps). */
    private readonly hold: () => Promise<void> = () => Promise.resolve(),
  ) {}

  async handle(raw: unknown): Promise<unknown> {
    const request = raw as Seen['raw'];
    this.seen.push({ raw: request, afterClose: this.closeCount > 0 });
    await this.hold();
    return this.answer(request);
  }

  close(): void {
    this.closeCount++;
  }

  /** The messages of the `log` requests seen. */
  logMessages(): string[] {
    return this.seen.filter((s) => s.raw.method === 'log').map((s) => String(s.raw.params['message']));
  }
}

/** A job with test defaults: a generous 60 s deadline (a module expected to succeed must not fail on a busy machine), 128 MB heap, a fresh fake broker. */
export function job(module: string, code: string, overrides: Partial<ModuleJob> = {}): ModuleJob & { broker: FakeBroker } {
  const broker = overrides.broker instanceof FakeBroker ? overrides.broker : new FakeBroker();
  return { module, code, configuration: {}, args: [], timeoutMs: 60_000, maxMemoryMb: 128, ...overrides, broker };
}
