// A sweep worker thread: receives seeds, runs each, posts its outcome back.
import { parentPort, workerData } from 'node:worker_threads';
import type { RunFlags } from './options.js';
import { runSeed } from './sweep.js';

const { flags } = workerData as { flags: RunFlags };
parentPort?.on('message', (seed: number) => {
  parentPort?.postMessage(runSeed(seed, flags));
});
