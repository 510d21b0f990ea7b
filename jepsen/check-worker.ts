// A worker thread of checkHistoryParallel: checks the parts it is sent, one at a time.

import { parentPort } from 'node:worker_threads';
import { checkPart } from './check.js';
import { modelByName } from './models.js';
import type { WorkerReply, WorkerTask } from './worker-pool.js';

if (parentPort === null) throw new Error('check-worker.js must run as a worker thread');
const port = parentPort;
port.on('message', (task: WorkerTask) => {
  let reply: WorkerReply;
  try {
    reply = { kind: 'done', index: task.index, result: checkPart(modelByName(task.model), task.key, task.ops, task.options) };
  } catch (err) {
    reply = { kind: 'error', index: task.index, message: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  port.postMessage(reply);
});
