// The machine's cost of moving a cache line from one core to another and
// back: two workers pass a counter through shared memory, each waiting for
// its turn, ROUNDS times.  Prints nanoseconds per round trip.  bench/run.mjs
// runs it beside the threaded workload: whatever two threads share costs
// this much, and on a virtual machine it changes from run to run.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const ROUNDS = Number(process.argv[2] ?? 1000000);

if (isMainThread) {
  const counter = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const pass = (turn) => new Promise((done) =>
    new Worker(new URL(import.meta.url), { workerData: { counter, turn, rounds: ROUNDS } }).once('message', done));
  const [ns] = await Promise.all([pass(0), pass(1)]);
  console.log(ns.toFixed(0));
} else {
  // The counter is even when it is worker 0's turn, odd for worker 1's; the
  // first turn starts the clock, so starting the workers is not counted.
  const { counter, turn, rounds } = workerData;
  let start = 0;
  for (let round = 0; round < rounds; round++) {
    const mine = 2 * round + turn;
    while (Atomics.load(counter, 0) !== mine);
    if (round === 0) start = performance.now();
    Atomics.store(counter, 0, mine + 1);
  }
  parentPort.postMessage(((performance.now() - start) * 1e6) / rounds);
}
