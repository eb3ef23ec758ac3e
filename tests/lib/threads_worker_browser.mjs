// A browser worker of the thread tests (tests/lib/threads.html): says it is
// ready once its instance exists, runs its thread, and posts its live blocks
// or its failure.
import { runThread } from './threads_run.mjs';

addEventListener('message', ({ data }) => {
  try {
    const { exports } = new WebAssembly.Instance(data.module, { env: { memory: data.memory } });
    exports.malloc0_threads_may_wait(data.mayWait ? 1 : 0);
    postMessage({ ready: true });
    postMessage({ live: runThread({ ...data, exports }) });
  } catch (error) {
    postMessage({ error: `${error.stack ?? error}` });
  }
});
