// A stand-in module worker for process-isolation tests: ends its run as the real worker does (the reply in the end
// notice), then keeps its piscina task for args[0] ms, as a worker still letting go of a task would.
import type { MessagePort } from 'node:worker_threads';
import type { TaskEnded } from '../../src/sandbox/wire/task.js';

export default async function linger(task: { args: string[]; port: MessagePort }): Promise<number> {
  const ended: TaskEnded = { t: 'task-ended', reply: { ok: true, result: { success: true } }, next: false };
  task.port.postMessage(ended);
  task.port.close();
  await new Promise((resolve) => setTimeout(resolve, Number(task.args[0] ?? 0)));
  return 1;
}
