// The piscina worker: locks the realm down once, then runs each module task in a fresh Compartment.
import 'ses';
import { createSdk, SdkError } from '../../sdk/client.js';
import { runInCompartment } from './compartment-run.js';
import { createPortCall } from './port-call.js';
import { sealWorkerCreation } from './worker-seal.js';
import { isNextTask, TASK_STARTED } from '../wire/task.js';
import type { TaskEnded, WorkerTask } from '../wire/task.js';
import { replyIsOk } from '../wire/worker-reply.js';
import type { WorkerReply } from '../wire/worker-reply.js';

let lockedDown = false;

/**
 * Hardens the worker's realm before the first module runs. Static imports above (zod, the SDK) are evaluated
 * by then, so they keep working; what runs after may not change any shared intrinsic.
 *
 * - errorTaming 'unsafe': errors keep their stacks, so a module failure is readable in the report.
 * - overrideTaming 'severe': libraries that assign `x.constructor = …` or `x.toString = …` on objects
 *   (the "override mistake" on frozen prototypes) keep working.
 * - errorTrapping / unhandledRejectionTrapping 'none': SES must not install process-wide handlers that print;
 *   this worker installs its own below.
 * - consoleTaming 'unsafe': the worker's console is not given to modules; leave it as Node made it.
 */
function ensureLockdown(): void {
  if (lockedDown) return;
  sealWorkerCreation();
  lockdown({
    errorTaming: 'unsafe',
    overrideTaming: 'severe',
    consoleTaming: 'unsafe',
    errorTrapping: 'none',
    unhandledRejectionTrapping: 'none',
    stackFiltering: 'concise',
  });
  // A module can reach SdkError through a rejected SDK call; frozen, it cannot be changed for the next module.
  harden(SdkError);
  // A promise a module left rejected must not kill the worker (and every module queued on it): its run's
  // outcome is what main() returned or threw, and a stray rejection after that has nowhere to go.
  process.on('unhandledRejection', () => undefined);
  lockedDown = true;
}

// At load, not at the first task: piscina loads this file when it starts the worker (the sandbox starts its workers
// ahead, while main is still in Phase 1), so the first module does not wait for the lockdown.
ensureLockdown();

/**
 * Runs one module task, then each run the host offered to follow it (NextTask) and this worker took, in order, in
 * this one piscina task; resolves to how many ran. Each run's reply goes out on its own port (TaskEnded). Never
 * rejects for anything a module does: failures come back as `{ ok: false }`; a module that overruns its deadline
 * or its memory ends the worker, and with it the runs after it, which the host then reports as not started.
 */
export default async function runModuleTasks(first: WorkerTask): Promise<number> {
  ensureLockdown();
  let task: WorkerTask | undefined = first;
  let ran = 0;
  while (task !== undefined) {
    ran += 1;
    task = await runModule(task);
  }
  return ran;
}

/** Runs one module; resolves to the run offered to follow it when the worker took it. */
async function runModule(task: WorkerTask): Promise<WorkerTask | undefined> {
  let offered: WorkerTask | undefined;
  let onlyIfOk = false;
  const onOffer = (raw: unknown): void => {
    if (offered !== undefined || !isNextTask(raw)) return;
    offered = raw.task;
    onlyIfOk = raw.onlyIfOk === true;
  };
  task.port.on('message', onOffer);
  // The module's deadline starts now, in the host that posted this task.
  task.port.postMessage(TASK_STARTED);
  const channel = createPortCall(task.port);
  let reply: WorkerReply;
  try {
    try {
      // The same names src/sdk/index.ts exports, so `err instanceof SdkError` works inside the sandbox too.
      // Its namespaces are hardened as the module first reads them (see createSdk); the object itself, here.
      const sdk = harden(Object.assign(createSdk(channel.call, harden(task.configuration), { check: task.check === true }, harden), { SdkError }));
      reply = await runInCompartment(task.module, task.code, sdk, task.args);
      // Calls the module started without awaiting them are answered before its result goes out.
      await channel.settled();
    } finally {
      // Then nothing the module left running can reach the broker.
      channel.stop();
    }
    await leftoverMicrotasksDrained();
  } catch (err) {
    // A failure of the worker's own code: the run and any offer fail in the host, which sees their ports close.
    task.port.close();
    offered?.port.close();
    throw err;
  }
  // The end notice goes behind every request of the run on the same port; an offer that comes after it is not
  // taken (the host starts that run itself), nor one made only after a success when this run did not succeed
  // (the host cancels it).
  task.port.off('message', onOffer);
  const next = offered !== undefined && (!onlyIfOk || replyIsOk(reply)) ? offered : undefined;
  if (next === undefined) offered?.port.close();
  const ended: TaskEnded = { t: 'task-ended', reply, next: next !== undefined };
  task.port.postMessage(ended);
  task.port.close();
  return next;
}

/**
 * Resolves on the next macrotask turn, which comes only once the microtask queue is empty. A module that left
 * an endless promise chain running after main() returned is stuck here until its own deadline, so it is reported
 * as timed out and its worker replaced, instead of starving the next module's SDK replies on this worker.
 * Once this resolves nothing of the module can run again: a compartment has no timers, no FinalizationRegistry,
 * no Atomics, and its channel refuses its calls (stop()).
 */
function leftoverMicrotasksDrained(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
