// The fields of the test modules' test_stats() record, in order (tests/exports.c
// fills it from malloc0_stats): one module for Node and the browser's pages.
const STATS_FIELDS = ['heap_base', 'tail', 'base_mark', 'peak_tail', 'memory_size',
  'bytes_in_use', 'blocks_in_use', 'bytes_free', 'marks', 'scope_floor'];

// The record at address in memory, as an object of numbers; big for wasm64.
export function statsAt(memory, address, big = false) {
  const words = big ? new BigUint64Array(memory.buffer, address, STATS_FIELDS.length)
    : new Uint32Array(memory.buffer, address, STATS_FIELDS.length);
  return Object.fromEntries(STATS_FIELDS.map((name, i) => [name, Number(words[i])]));
}
