// Spreads the parts (keys) of a history over worker threads. Each worker runs checkPart on
// the parts it is handed, one at a time, largest first; results come back in key order, so
// the verdict and the report do not depend on scheduling.

import { Worker } from 'node:worker_threads';
import type { CheckOptions } from './check.js';
import type { ModelName } from './models.js';
import type { Operation, PartitionResult } from './types.js';

export interface WorkerTask {
  readonly index: number;
  readonly model: ModelName;
  readonly key: string | null;
  readonly ops: readonly Operation[];
  readonly options: CheckOptions & { readonly deadlineMs?: number };
}

export type WorkerReply =
  | { readonly kind: 'done'; readonly index: number; readonly result: PartitionResult }
  | { readonly kind: 'error'; readonly index: number; readonly message: string };

export async function runPartsInWorkers(
  url: URL,
  model: ModelName,
  parts: ReadonlyArray<{ readonly key: string | null; readonly ops: readonly Operation[] }>,
  options: CheckOptions & { readonly deadlineMs?: number },
  jobs: number,
): Promise<PartitionResult[]> {
  const results: Array<PartitionResult | undefined> = new Array(parts.length).fill(undefined);
  // Largest parts first: the longest one should not start last.
  const queue = parts.map((_, i) => i).sort((a, b) => (parts[b]?.ops.length ?? 0) - (parts[a]?.ops.length ?? 0) || a - b);
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let outstanding = parts.length;
      const feed = (w: Worker): void => {
        const index = queue.shift();
        if (index === undefined) return;
        const part = parts[index];
        if (part === undefined) return;
        const task: WorkerTask = { index, model, key: part.key, ops: part.ops, options };
        w.postMessage(task);
      };
      for (let j = 0; j < jobs; j++) {
        const w = new Worker(url);
        workers.push(w);
        w.on('message', (reply: WorkerReply) => {
          if (reply.kind === 'error') {
            reject(new Error(`checker worker: ${reply.message}`));
            return;
          }
          results[reply.index] = reply.result;
          outstanding--;
          if (outstanding === 0) resolve();
          else feed(w);
        });
        w.on('error', reject);
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results.map((r, i) => {
    if (r === undefined) throw new Error(`checker worker: no result for part ${i}`);
    return r;
  });
}
