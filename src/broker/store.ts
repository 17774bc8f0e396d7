// A module's small persistent key-value store: one JSON file per module, written atomically, size-capped.
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { UpdatesError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs-atomic.js';
import { errnoCode } from '../core/errno.js';

/**
 * The store of one module at `<stateDir>/store/<module>.json`. Entries live in a Map (never a plain
 * object), so keys like "__proto__" are ordinary keys. Mutations are serialized: concurrent requests of one
 * module would otherwise lose each other's writes.
 */
export class ModuleStore {
  private queue: Promise<unknown> = Promise.resolve();

  /** @param file the store's JSON file; its folder is created on first write */
  constructor(
    private readonly file: string,
    private readonly maxBytes: number,
  ) {}

  /** The store's file for a module under a state folder. */
  static fileFor(stateDir: string, module: string): string {
    return path.join(stateDir, 'store', `${module}.json`);
  }

  private async load(): Promise<Map<string, unknown>> {
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return new Map();
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UpdatesError('E_IO', { method: 'store', detail: 'the store file is not valid JSON; it was left as it is' });
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new UpdatesError('E_IO', { method: 'store', detail: 'the store file does not hold an object' });
    }
    return new Map(Object.entries(json));
  }

  private async save(entries: Map<string, unknown>, method: string): Promise<void> {
    const text = `${JSON.stringify(Object.fromEntries(entries))}\n`;
    const size = Buffer.byteLength(text);
    if (size > this.maxBytes) {
      throw new UpdatesError('E_LIMIT', { method, detail: `the store would be ${size} bytes, more than the limit of ${this.maxBytes}` });
    }
    await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, text, 0o600);
  }

  private serialized<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The value of `key`, or undefined. */
  get(key: string): Promise<unknown> {
    return this.serialized(async () => (await this.load()).get(key));
  }

  /** Sets `key`; refused (and nothing written) when the store would exceed its cap. */
  set(key: string, value: unknown): Promise<void> {
    return this.serialized(async () => {
      const entries = await this.load();
      entries.set(key, value);
      await this.save(entries, 'store.set');
    });
  }

  /** Deletes `key`; resolves to whether it existed. */
  delete(key: string): Promise<boolean> {
    return this.serialized(async () => {
      const entries = await this.load();
      const had = entries.delete(key);
      if (had) await this.save(entries, 'store.delete');
      return had;
    });
  }

  /** All keys, sorted. */
  keys(): Promise<string[]> {
    return this.serialized(async () => [...(await this.load()).keys()].sort());
  }
}
