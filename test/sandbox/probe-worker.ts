// A stand-in module worker for process-isolation tests: probes what code in the worker's own realm could do.
// Bundled into the sandbox process in place of src/sandbox/worker/worker.ts; it never runs in the test process itself.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { sealWorkerCreation } from '../../src/sandbox/worker/worker-seal.js';
import type { TaskEnded } from '../../src/sandbox/wire/task.js';

let sealed = false;

/** What one probe did: `denied:<code>` when it threw, else what it got. */
function attempt(fn: () => unknown): string {
  try {
    return `allowed:${String(fn())}`;
  } catch (err) {
    return `denied:${String((err as { code?: string }).code ?? (err as Error).message)}`;
  }
}

/** The `execArgv: []` escape (ARCHITECTURE.md): a nested worker that tries to write as soon as it starts. */
function nestedWorkerWrite(target: string): Promise<string> {
  return new Promise((resolve) => {
    const code = `try { require('fs').writeFileSync(${JSON.stringify(target)}, 'x'); require('worker_threads').parentPort.postMessage('allowed'); }
      catch (e) { require('worker_threads').parentPort.postMessage('denied:' + e.code); }`;
    let worker: Worker;
    try {
      worker = new Worker(code, { eval: true, execArgv: [] });
    } catch (err) {
      resolve(`denied:${String((err as { code?: unknown }).code)}`);
      return;
    }
    worker.once('message', (m: unknown) => resolve(String(m)));
    worker.once('error', (err) => resolve(`denied:${String((err as { code?: unknown }).code)}`));
  });
}

/** Answers like the real worker: `{ ok: true, result }` on the task's port, with the probes' findings as the result's JSON message. */
export default async function probe(task: { args: string[]; port: MessagePort }): Promise<number> {
  // As the real worker does before its first module; args[1] === 'unsealed' probes the bare permission model.
  if (!sealed && task.args[1] !== 'unsealed') sealWorkerCreation();
  sealed = true;
  const target = task.args[0] ?? '/tmp/updates-sandbox-probe';
  const report = {
    uid: process.getuid?.(),
    gid: process.getgid?.(),
    envKeys: Object.keys(process.env).length,
    write: attempt(() => writeFileSync(target, 'x')),
    readEtc: attempt(() => readFileSync('/etc/hostname', 'utf8').length),
    readShadow: attempt(() => readFileSync('/etc/shadow', 'utf8').length),
    spawn: attempt(() => spawnSync('/bin/true').status),
    killParent: attempt(() => process.kill(process.ppid, 0)),
    nestedWorker: await nestedWorkerWrite(`${target}-nested`),
    builtinWorker: attempt(() => new (process.getBuiltinModule('node:worker_threads').Worker)('0', { eval: true, execArgv: [] }).threadId),
  };
  // As the real worker does: the reply in the end notice on the run's port; the task resolves to how many ran.
  const ended: TaskEnded = { t: 'task-ended', reply: { ok: true, result: { success: true, message: JSON.stringify(report) } }, next: false };
  task.port.postMessage(ended);
  task.port.close();
  return 1;
}
