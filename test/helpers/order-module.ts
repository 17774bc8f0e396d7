// A module that records when it ran: it appends a tag to /srv/order/log (under --root) through the SDK,
// read-then-write, so one that started before the one before it had written would lose that line.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { moduleFiles, tempDir } from './repo.js';

export interface OrderedOptions {
  version?: string;
  /** What it appends (default: its name). */
  tag?: string;
  /** Code run before it appends (an SDK call, a throw, a hang). */
  before?: string;
  timeoutSeconds?: number;
}

/** The files of module `name` at `priority` that appends its tag to /srv/order/log. */
export function ordered(name: string, priority: number, options: OrderedOptions = {}): Record<string, string> {
  const files = moduleFiles(name, {
    version: options.version ?? '1.0.0',
    priority,
    ...(options.timeoutSeconds !== undefined ? { timeoutSeconds: options.timeoutSeconds } : {}),
    capabilities: { paths: [{ path: '/srv/order', access: ['read', 'write'] }] },
    body: `${options.before ?? ''}
  const prev = (await fs.exists('/srv/order/log')) ? await fs.readFile('/srv/order/log') : '';
  await fs.writeFile('/srv/order/log', prev + '${options.tag ?? name}\\n');
  return { success: true };`,
  });
  const key = `modules/${name}/index.ts`;
  files[key] = (files[key] ?? '').replace("import { log } from 'updates-orchestrator/sdk';", "import { fs, log } from 'updates-orchestrator/sdk';");
  return files;
}

/** A --root with the /srv/order folder the ordered modules write to. */
export function sandboxRoot(): string {
  const root = tempDir('uo-root');
  mkdirSync(path.join(root, 'srv', 'order'), { recursive: true });
  return root;
}

/** The tags written so far, in order. */
export function orderLog(root: string): string[] {
  return readFileSync(path.join(root, 'srv', 'order', 'log'), 'utf8').split('\n').filter((l) => l !== '');
}
