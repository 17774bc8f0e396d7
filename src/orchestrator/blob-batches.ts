/**
 * Reads the files of the modules to install in few `git cat-file --batch` processes (one per batch of up to
 * BATCH_BYTES), instead of one process per module.
 */
import { readBlobs } from './git.js';
import type { RemoteModule } from './snapshot.js';

/** Largest batch of file contents held in memory at once. */
const BATCH_BYTES = 64 * 1024 * 1024;

export class BlobBatches {
  readonly #repoDir: string;
  readonly #modules: RemoteModule[];
  #loaded = new Map<string, Buffer>();
  #loadedModules = new Set<string>();

  constructor(repoDir: string, modules: RemoteModule[]) {
    this.#repoDir = repoDir;
    this.#modules = modules;
  }

  /** A load in progress: callers that arrive meanwhile wait for it rather than start their own. */
  #loading: Promise<void> | undefined;

  /**
   * The blobs of `mod`'s files; loads the batch that starts with it when they are not in memory yet. Safe to
   * call concurrently.
   */
  async for(mod: RemoteModule): Promise<Map<string, Buffer>> {
    for (;;) {
      if (this.#loadedModules.has(mod.name)) return this.#loaded;
      if (this.#loading !== undefined) {
        // Another module's load: it may bring this module's files too. Its failure is that module's.
        await this.#loading.catch(() => undefined);
        continue;
      }
      this.#loading = this.#loadFrom(mod).finally(() => (this.#loading = undefined));
      await this.#loading;
    }
  }

  async #loadFrom(first: RemoteModule): Promise<void> {
    const start = Math.max(0, this.#modules.findIndex((m) => m.name === first.name));
    const batch: RemoteModule[] = [];
    let bytes = 0;
    for (const m of this.#modules.slice(start)) {
      const size = m.files.reduce((n, f) => n + f.size, 0);
      if (batch.length > 0 && bytes + size > BATCH_BYTES) break;
      batch.push(m);
      bytes += size;
    }
    if (batch.length === 0) batch.push(first);
    this.#loaded = await readBlobs(this.#repoDir, batch.flatMap((m) => m.files.map((f) => f.oid)));
    this.#loadedModules = new Set(batch.map((m) => m.name));
  }
}
