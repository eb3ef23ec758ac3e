// make bench: time per malloc+free pair as the number of live blocks grows
// from 10^3 to 10^6. O(1) means the column stays flat.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const wasm = new WebAssembly.Module(readFileSync(new URL('../build/bench/scaling.wasm', import.meta.url)));
const LIVE = [1e3, 1e4, 1e5, 1e6];
const PAIRS = Number(process.env.PAIRS ?? 2e6);
const REPEATS = Number(process.env.REPEATS ?? 7);
const WORKLOADS = ['lifo', 'tail_reach'];

function measure(workload, live) {
  const { exports } = new WebAssembly.Instance(wasm, {});
  if (!exports.setup(live)) throw new Error(`setup(${live}) ran out of memory`);
  exports[workload](PAIRS / 10); // warm up
  const start = performance.now();
  if (!exports[workload](PAIRS)) throw new Error(`${workload} ran out of memory`);
  return ((performance.now() - start) * 1e6) / PAIRS;
}

const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
const times = {};
for (const workload of WORKLOADS) times[workload] = LIVE.map(() => []);
// Interleaved, so machine noise hits every column alike.
for (let r = 0; r < REPEATS; r++) {
  for (const workload of WORKLOADS) {
    LIVE.forEach((live, i) => times[workload][i].push(measure(workload, live)));
  }
}

console.log(`ns per malloc+free pair, median of ${REPEATS}, ${PAIRS} pairs each (${new Date().toISOString().slice(0, 10)})\n`);
console.log(`| live blocks | ${WORKLOADS.join(' | ')} |`);
console.log(`|---:|${WORKLOADS.map(() => '---:').join('|')}|`);
LIVE.forEach((live, i) => {
  const cells = WORKLOADS.map((w) => median(times[w][i]).toFixed(1));
  console.log(`| ${live.toLocaleString('en-US')} | ${cells.join(' | ')} |`);
});
const spread = WORKLOADS.map((w) => {
  const medians = times[w].map(median);
  return `${w} ${(Math.max(...medians) / Math.min(...medians)).toFixed(2)}x`;
});
console.log(`\nslowest / fastest across live counts: ${spread.join(', ')}`);
