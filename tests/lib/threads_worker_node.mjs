// A Node worker of the thread tests: instantiates the module over the shared
// memory, runs its thread, and posts its live blocks or its failure.
import { parentPort, workerData } from 'node:worker_threads';
import { runThread } from './threads_run.mjs';

const { module, memory, mayWait } = workerData;
try {
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  exports.malloc0_threads_may_wait(mayWait ? 1 : 0);
  parentPort.postMessage({ live: runThread({ ...workerData, exports }) });
} catch (error) {
  parentPort.postMessage({ error: `${error.stack ?? error}` });
}
