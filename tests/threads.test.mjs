// The thread-safe build (MALLOC0_THREADS, on with -matomics) over one shared
// WebAssembly.Memory, in 2, 4 and 8 Node workers: each runs random
// operations with its own shadow of its live blocks (tests/lib/threads_run.mjs)
// and hands some blocks to other threads to free.  After they join, the main
// thread checks that no two live blocks overlap and none changed, runs
// malloc0_check, and frees every block: the heap is empty again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { readCString } from '../examples/lib/malloc0.mjs';
import { README, headerProse, read } from './lib/readme.mjs';
import { random } from './lib/random.mjs';
import { CONTROL_INTS, MAX_PAGES, checkJoined, firstFailure, ringInts, statsOf, threadStacks } from './lib/threads_run.mjs';

const OPERATIONS = 1000000; // per thread
const WORKER = new URL('./lib/threads_worker_node.mjs', import.meta.url);

const modulePath = (build) => fileURLToPath(new URL(`../build/test-threads/${build}.wasm`, import.meta.url));

// The build's module, a new shared memory and the instance over it on this
// thread (which workers instantiate again, over the same memory).
function instantiate(build) {
  const module = new WebAssembly.Module(readFileSync(modulePath(build)));
  const memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_PAGES, shared: true });
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  return { module, memory, exports };
}

// Resolves to the first message of new Worker(source, options); with ms,
// rejects with the message late if none came by then (and stops it).
function firstMessage(source, options, ms, late) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, options);
    const timer = ms && setTimeout(() => {
      worker.terminate();
      reject(new Error(late));
    }, ms);
    worker.once('message', (message) => {
      clearTimeout(timer);
      resolve(message);
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

// Resolves to the worker's live blocks; with ms, rejects if it is not done
// by then (and stops it).
async function runWorker(workerData, ms) {
  const { live, error } = await firstMessage(WORKER, { workerData }, ms, `the worker was not done after ${ms} ms`);
  if (error) throw new Error(error);
  return live;
}

const sharedInts = (count) => new Int32Array(new SharedArrayBuffer(4 * count));

// The builds' MALLOC0_ALIGN, where it is not 16.
const ALIGN = { a8: 8 };

async function run({ build, threads, operations = OPERATIONS, mayWait, marks = false, seed }) {
  const { module, memory, exports } = instantiate(build);
  const start = statsOf(exports, memory);
  const rings = sharedInts(ringInts(threads));
  const control = sharedInts(CONTROL_INTS);
  const stacks = threadStacks(exports, threads);
  const settled = await Promise.allSettled(Array.from({ length: threads }, (_, id) => runWorker({
    module, memory, mayWait, id, threads, operations, seed: seed + id, rings, control, marks, stackTop: stacks.tops[id],
    align: ALIGN[build],
  })));
  const failure = firstFailure(settled);
  if (failure) throw failure;
  const lives = settled.map((s) => s.value);
  checkJoined(exports, memory, lives, start, stacks);
}

// Every thread count runs 10^6 operations per thread over the default
// profile, waiting; the other profiles, the default one without thread
// caches (locked), spinning, marks, the debug build (which checks every
// invariant where it could break), MALLOC0_ALIGN 8 (a8: caches of twice
// as many sizes, of 8-byte blocks up) and MALLOC0_CHECKS=0 (nochecks: free
// and the caches trust the pointers freed) run fewer.  The tiny profile, which
// reuses memory only at the tail, may reach the maximum under random
// frees: then malloc returns NULL in every thread.
const THREADS = [2, 4, 8];
const SHORT = 250000;
const how = (mayWait) => (mayWait ? 'waiting when the lock is held' : 'spinning');
const runs = [
  ...THREADS.map((threads) => ({ build: 'default', threads, mayWait: true })),
  ...THREADS.map((threads) => ({ build: 'default', threads, operations: SHORT, mayWait: false })),
  ...['tiny', 'fast', 'locked'].flatMap((build) => THREADS.map((threads) => ({
    build, threads, operations: SHORT, mayWait: threads !== 2,
  }))),
  { build: 'debug', threads: 4, operations: SHORT, mayWait: true },
  ...['a8', 'nochecks'].flatMap((build) => THREADS.map((threads) => ({ build, threads, operations: SHORT, mayWait: true }))),
];
for (const [i, { build, threads, operations = OPERATIONS, mayWait }] of runs.entries()) {
  test(`${build}: ${threads} threads, ${operations} operations each, ${how(mayWait)}`, () =>
    run({ build, threads, operations, mayWait, seed: 1000 * i }));
}
// The tiny profile takes its mark early: under random frees its memory
// grows with every allocation, and at the maximum a mark, which needs a
// block, is NULL (the threads' interleaving decides when that comes).
const MARKED = { tiny: 40000 };
for (const build of ['default', 'tiny', 'fast', 'locked', 'debug', 'a8', 'nochecks']) {
  const operations = MARKED[build] ?? SHORT;
  test(`${build}: 4 threads, ${operations} operations each, and a mark: what threads allocate after it lies above ` +
    'it; a reset and a pop release only that', () => run({ build, threads: 4, operations, mayWait: true, marks: true, seed: 77 }));
}

// The debug build traps on invalid input before the heap changes, and
// releases the lock first: another thread then allocates and frees as
// before (with the lock kept, it would wait for it forever).
test('debug build: a trap on invalid input releases the lock, and other threads go on', async () => {
  const { module, memory, exports } = instantiate('debug');
  const start = statsOf(exports, memory);
  const block = exports.malloc(100) >>> 0;
  assert.throws(() => exports.free(block + 4), WebAssembly.RuntimeError);
  const reason = readCString(memory, exports.malloc0_trap_reason() >>> 0);
  assert.match(reason, /^free: the pointer is not a block in use/);
  const live = await runWorker({ module, memory, mayWait: true, id: 0, threads: 1, operations: 20000, seed: 5,
    rings: sharedInts(ringInts(1)), control: sharedInts(CONTROL_INTS), marks: false }, 30000);
  exports.free(block);
  checkJoined(exports, memory, [live], start);
});

// Blocks that wait in a thread cache cost time, not pages: on a heap of a
// few pages, a cache keeps up to 64 KiB, more than a 64th of the heap, and
// gives it back before memory grows.  Small blocks of every cached size,
// four pages of them, are freed in random order below one kept block; a
// request that only all of them together can serve then takes them,
// without memory growing.
test('default: blocks a thread cache keeps are released before memory grows, so they cost no pages', () => {
  const { memory, exports } = instantiate('default');
  const start = statsOf(exports, memory);
  const rng = random(25);
  const SPAN = 4 * 65536;
  const small = [];
  let first = 0;
  for (let bytes = 0; bytes < SPAN;) {
    const size = 4 + 16 * (small.length % 17); // every size a cache keeps, to 272 bytes
    const p = exports.malloc(size) >>> 0;
    assert.ok(p, 'malloc returned NULL');
    first ||= p;
    small.push(p);
    bytes += size + 4;
  }
  const kept = exports.malloc(16) >>> 0;
  const pages = memory.buffer.byteLength;
  while (small.length) exports.free(small.splice(rng.below(small.length), 1)[0]);
  const spanned = kept - first;
  assert.ok(spanned - 4 > memory.buffer.byteLength - kept, 'the request would fit above the kept block');
  const large = exports.malloc(spanned - 4) >>> 0;
  assert.equal(large, first, 'the request did not take the freed blocks');
  assert.equal(memory.buffer.byteLength, pages, 'memory grew');
  assert.equal(exports.malloc0_check(), 1);
  exports.free(large);
  exports.free(kept);
  assert.equal(statsOf(exports, memory).tail, start.tail, 'the heap is not empty again');
});

// The thread caches' static data, as malloc0.h and the README give it: the
// heap of the build with caches starts that much above the heap of the
// build without (locked), to the half KiB.  The a8 build stands for
// MALLOC0_ALIGN 4 as well: both have a grain of 8 bytes.
test('the thread caches take the static data that malloc0.h and the README say', () => {
  const said = /up to ([\d.]+) KiB of static data for the caches \(([\d.]+) KiB with MALLOC0_ALIGN 4 or 8\)/
    .exec(headerProse());
  assert.ok(said, 'malloc0.h gives the caches\' static data');
  const heapBase = (build) => {
    const { memory, exports } = instantiate(build);
    return statsOf(exports, memory).heap_base;
  };
  const halfKiB = (bytes) => Math.round(bytes / 512) / 2;
  assert.equal(halfKiB(heapBase('default') - heapBase('locked')), Number(said[1]), 'MALLOC0_ALIGN 16');
  assert.equal(halfKiB(heapBase('a8') - heapBase('locked')), Number(said[2]), 'MALLOC0_ALIGN 8');
  assert.ok(read(README).replace(/\n/g, ' ').includes(`the caches take ${said[1]} KiB of static data`),
    'the README gives what malloc0.h does');
});

// One thread of the test below: allocates and frees until a call traps,
// then reports it.
const UNTIL_TRAP = `
const { workerData: { module, memory, mayWait, size, delay }, parentPort } = require('node:worker_threads');
const { exports } = new WebAssembly.Instance(module, { env: { memory } });
exports.malloc0_threads_may_wait(mayWait ? 1 : 0);
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay);
try {
  for (;;) exports.free(exports.malloc(size));
} catch (error) {
  parentPort.postMessage({ trapped: error instanceof WebAssembly.RuntimeError });
}`;

const untilTrap = (workerData, ms) => firstMessage(UNTIL_TRAP, { eval: true, workerData }, ms,
  `a thread's call did not trap within ${ms} ms: it waits for the lock`);

// A write over a hole's back link (a program's bug) is found by the call
// that takes the hole, which traps while it holds the lock.  The heap is
// broken then, and so is the lock: every thread's next call traps, the
// threads spinning or waiting for the lock included, rather than waiting
// forever.
for (const [build, mayWait] of [['default', true], ['default', false], ['debug', true]]) {
  test(`${build}: after a trap on a corrupt heap, every thread's call traps instead of ${mayWait ? 'waiting' : 'spinning'} forever`, async () => {
    const { module, memory, exports } = instantiate(build);
    const before = exports.malloc(100) >>> 0;
    const hole = exports.malloc(1000) >>> 0;
    exports.malloc(100);
    exports.free(hole);
    new Uint32Array(memory.buffer, hole + 4, 1)[0] = 0; // the back link
    const threads = [{ size: 16, delay: 0 }, { size: 16, delay: 0 }, { size: 1000, delay: 50 }];
    const results = await Promise.all(threads.map(({ size, delay }) =>
      untilTrap({ module, memory, mayWait, size, delay }, 20000)));
    for (const { trapped } of results) assert.ok(trapped, 'the call failed, but not with a trap');
    assert.throws(() => exports.free(before), WebAssembly.RuntimeError);
    if (build === 'debug') assert.match(readCString(memory, exports.malloc0_trap_reason() >>> 0), /: corrupt: /);
  });
}
