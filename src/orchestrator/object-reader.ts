/**
 * Reads git objects from one long-lived `git cat-file --batch` process (and one `--batch-check` process for
 * type-and-size reads), so a whole snapshot (commit, trees level by level, manifests) costs one or two git
 * processes instead of one per step. Requests are answered in order; objects are read exactly as stored.
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { GIT_ENV } from './git.js';
import type { GitObject } from './git.js';

/** One read in flight: the objects asked for, in order, and what has been parsed of them so far. */
interface Pending {
  oids: readonly string[];
  out: Map<string, GitObject>;
  resolve: (objects: Map<string, GitObject>) => void;
  reject: (err: Error) => void;
  /** The first object of this read that was missing (the read fails once all its answers are in). */
  missing?: string;
}

/** One cat-file process and the reads waiting for its answers. */
class BatchProcess {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #queue: Pending[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  /** Chunks not yet joined to #buffer, while a large object's content is still arriving. */
  #chunks: Buffer[] = [];
  #chunkBytes = 0;
  /** Bytes #buffer must hold before the next answer can be parsed. */
  #need = 0;
  /** How many answers of the queue's first read are in. */
  #answered = 0;
  #stderr = '';
  #failure: Error | undefined;

  constructor(repoDir: string, private readonly headersOnly: boolean) {
    this.#child = spawn('git', ['cat-file', headersOnly ? '--batch-check' : '--batch'], { cwd: repoDir, env: GIT_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stdout.on('data', (c: Buffer) => this.#onData(c));
    this.#child.stderr.on('data', (c: Buffer) => (this.#stderr += c.toString()));
    this.#child.on('error', (err) => this.#fail(err));
    this.#child.on('close', (code) => this.#fail(new Error(`git cat-file ended (exit code ${code ?? 'none'})${this.#stderr.trim() !== '' ? `: ${this.#stderr.trim()}` : ''}`)));
    // A closed pipe after a failure is reported through 'close'; it must not throw here.
    this.#child.stdin.on('error', () => undefined);
  }

  read(oids: readonly string[]): Promise<Map<string, GitObject>> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#queue.push({ oids, out: new Map(), resolve, reject });
      this.#child.stdin.write(`${oids.join('\n')}\n`);
    });
  }

  close(): void {
    this.#child.stdin.end();
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const p of this.#queue.splice(0)) p.reject(this.#failure);
  }

  #onData(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#chunkBytes += chunk.length;
    if (this.#buffer.length + this.#chunkBytes < this.#need) return;
    this.#buffer = Buffer.concat([this.#buffer, ...this.#chunks]);
    this.#chunks = [];
    this.#chunkBytes = 0;
    this.#need = 0;
    let pos = 0;
    for (;;) {
      const head = this.#queue[0];
      if (head === undefined) break;
      const nl = this.#buffer.indexOf(0x0a, pos);
      if (nl < 0) break;
      const oid = head.oids[this.#answered] ?? '';
      const [printed = '', type, size] = this.#buffer.subarray(pos, nl).toString('utf8').split(' ');
      if (type === undefined || size === undefined) {
        // "<oid> missing" (or "ambiguous"): no content follows.
        head.missing ??= oid;
        pos = nl + 1;
      } else if (this.headersOnly) {
        head.out.set(oid, { oid: printed, type, size: Number(size), data: Buffer.alloc(0) });
        pos = nl + 1;
      } else {
        const end = nl + 1 + Number(size);
        if (end + 1 > this.#buffer.length) {
          this.#need = end + 1 - pos;
          break;
        }
        // A copy: the buffer it came from is reused for the next answers.
        head.out.set(oid, { oid: printed, type, size: Number(size), data: Buffer.from(this.#buffer.subarray(nl + 1, end)) });
        pos = end + 1;
      }
      this.#answered += 1;
      if (this.#answered === head.oids.length) {
        this.#queue.shift();
        this.#answered = 0;
        if (head.missing !== undefined) head.reject(new Error(`git cat-file: object ${head.missing} is missing`));
        else head.resolve(head.out);
      }
    }
    this.#buffer = pos === 0 ? this.#buffer : this.#buffer.subarray(pos);
  }
}

/**
 * Reads objects of one repository through long-lived cat-file processes, started on first use. close() ends
 * them; a reader must be closed (its processes keep running until then).
 */
export class ObjectReader {
  #contents: BatchProcess | undefined;
  #headers: BatchProcess | undefined;

  constructor(readonly repoDir: string) {}

  /** Reads `oids` (type, size and content; `headersOnly`: type and size). A missing object rejects. */
  read(oids: readonly string[], headersOnly = false): Promise<Map<string, GitObject>> {
    const unique = [...new Set(oids)];
    if (unique.length === 0) return Promise.resolve(new Map<string, GitObject>());
    const proc = headersOnly ? (this.#headers ??= new BatchProcess(this.repoDir, true)) : (this.#contents ??= new BatchProcess(this.repoDir, false));
    return proc.read(unique);
  }

  /** Ends the processes (they exit once their input is closed). Once is enough; a read after it starts new ones. */
  close(): void {
    this.#contents?.close();
    this.#headers?.close();
    this.#contents = undefined;
    this.#headers = undefined;
  }
}
