// Bench helpers: timing with warm-up and repetitions, medians, temp dirs, child processes.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Milliseconds taken by `fn`. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Runs `warmup` untimed rounds, then `reps` timed rounds. Each round runs every function once, back to back, in an
 * order that rotates from round to round, so subject and baseline see the same machine load. `prepare` runs
 * before each round, untimed. Returns the timed rounds' milliseconds per function.
 */
export async function rounds<K extends string>(opts: {
  warmup: number;
  reps: number;
  prepare?: (round: number) => Promise<void>;
  fns: Record<K, (round: number) => Promise<unknown>>;
}): Promise<Record<K, number[]>> {
  const names = Object.keys(opts.fns) as K[];
  const out = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < opts.warmup + opts.reps; round++) {
    if (opts.prepare) await opts.prepare(round);
    const order = names.map((_, i) => names[(i + round) % names.length] as K);
    for (const name of order) {
      const ms = await timed(() => opts.fns[name](round));
      if (round >= opts.warmup) out[name].push(ms);
    }
  }
  return out;
}

const made: string[] = [];

/** A new temp dir under os.tmpdir(), removed by cleanupTempDirs(). */
export function tempDir(tag: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `uo-bench-${tag}-`));
  made.push(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Removes every temp dir made by tempDir(). */
export function cleanupTempDirs(): void {
  for (const dir of made.splice(0)) removeDir(dir);
}

/** Runs a program; rejects on a non-zero exit. */
export function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (err) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message}`, { cause: err }));
      else resolve();
    });
  });
}

/** Peak RSS and heap of this process, sampled every `everyMs` while `fn` runs. */
export async function sampleMemory<T>(fn: () => Promise<T>, everyMs = 5): Promise<{ value: T; peakRss: number; peakHeapUsed: number }> {
  let peakRss = 0;
  let peakHeapUsed = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeapUsed = Math.max(peakHeapUsed, m.heapUsed);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  try {
    const value = await fn();
    sample();
    return { value, peakRss, peakHeapUsed };
  } finally {
    clearInterval(timer);
  }
}

export const MB = 1024 * 1024;
export const round1 = (x: number): number => Math.round(x * 10) / 10;
export const round2 = (x: number): number => Math.round(x * 100) / 100;
