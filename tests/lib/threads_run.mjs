// One thread of the thread tests, the same in a Node worker and in a
// browser's: random operations over one heap in shared memory, with a shadow
// of this thread's own live blocks.  Each block holds a pattern of its own
// key, checked whole when the block leaves and in sweeps over every live
// block, so that a block another thread was handed over this one, or a byte
// written into it, shows.  Some blocks are handed to another thread through
// a ring in shared memory, to be checked and freed there.  Failures are
// thrown as Errors with the seed and the step.
import { random, sizeFrom } from './random.mjs';
import { statsAt } from './stats.mjs';

const RING_SLOTS = 64;
const SLOT_INTS = 3; // address, size, key
const RING_INTS = 2 + RING_SLOTS * SLOT_INTS; // head, tail, slots
const SWEEP_EVERY = 8192;
const LIVE_LIMIT = 300;
// With marks, what a thread allocates in its first PINNED_STEPS steps stays
// live to the end: a reset and a pop must leave it.  The threads meet after
// those steps, before the mark is taken, so that a worker that started late
// pins nothing above the mark.
const PINNED_STEPS = 100;
// Words of the control block: threads that finished their operations, the
// mark (0 until taken), the barrier's count, and 1 once a thread failed.
const DONE = 0;
const MARK = 1;
const BARRIER = 2;
const FAILED = 3;
export const CONTROL_INTS = 4;
// What a thread throws when another one failed: the run ends in every thread
// rather than leaving some waiting for the failed one.
export const ANOTHER_FAILED = 'another thread failed';

export const ringInts = (threads) => threads * threads * RING_INTS;
// The modules' maximum, in pages: the Makefile's THREADS_MAX_PAGES.
export const MAX_PAGES = 8192;
export const statsOf = (exports, memory) => statsAt(memory, exports.test_stats() >>> 0);

// A C stack for each thread, in one block: each starts a 64 KiB run of
// addresses of its own, as thread stacks do, so that the threads' calls go
// to thread caches of their own (malloc0.c, Thread caches); without them,
// every instance starts on the same stack pointer and shares one cache.
// Returns the block, which checkJoined frees, and each thread's stack top.
const STACK_RUN = 65536;
export function threadStacks(exports, threads) {
  const block = exports.malloc((threads + 1) * STACK_RUN) >>> 0;
  if (!block) throw new Error('no memory for the threads\' stacks');
  const base = Math.ceil(block / STACK_RUN) * STACK_RUN;
  return { block, tops: Array.from({ length: threads }, (_, id) => base + (id + 1) * STACK_RUN - 16) };
}

// After the threads joined, on one thread: no two of their live blocks
// overlap and none changed, malloc0_check holds and counts them all; then
// every block is freed and the heap is as empty as at start (statsOf before
// the threads ran).  Throws an Error that says what failed.
export function checkJoined(exports, memory, lives, start, stacks) {
  const fail = (message) => { throw new Error(`after the threads joined: ${message}`); };
  if (stacks) exports.free(stacks.block);
  const live = lives.flat().sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < live.length; i++) {
    const [before, size] = live[i - 1];
    if (before + Math.max(size, 1) > live[i][0]) fail(`live blocks ${before}+${size} and ${live[i][0]} overlap`);
  }
  for (const [address, size, key] of live) {
    if (exports.pattern_check(address, size, key) >>> 0) fail(`live block ${address}+${size} changed`);
  }
  if (exports.malloc0_check() !== 1) fail('malloc0_check found the heap inconsistent');
  const joined = statsOf(exports, memory);
  if (joined.blocks_in_use !== live.length) fail(`${joined.blocks_in_use} blocks in use, ${live.length} live`);
  if (joined.marks !== 0) fail(`${joined.marks} marks left`);
  for (const [address] of live) exports.free(address);
  const end = statsOf(exports, memory);
  if (end.tail !== start.tail || end.bytes_in_use !== 0) fail(`every block freed, yet the tail is ${end.tail}, not ${start.tail}`);
  if (exports.malloc0_check() !== 1) fail('malloc0_check found the heap inconsistent after the frees');
  return live.length;
}

// Mostly small blocks, some up to 4 KiB, a few up to 256 KiB, one in 2000 up
// to 2 MiB.
const SIZES = [[0.0005, (2 << 20) - 1], [0.7, 128], [0.95, 4096], [1, 256 << 10]];
const randomSize = (rng) => sizeFrom(rng, SIZES);

// exports: the instance's exports; memory: the shared WebAssembly.Memory;
// rings, control: Int32Arrays over SharedArrayBuffers that every thread of
// the run shares; align: the build's MALLOC0_ALIGN (16 if not given).
// With marks, thread 0 takes a mark halfway through the first half; every
// thread checks that what it allocates after seeing the mark lies above
// it; at the half, all wait, thread 0 resets to the mark, and each forgets
// its blocks above it; at the end thread 0 pops it.
// Returns this thread's live blocks: [address, size, key] triples.
// With stackTop, the thread runs on that stack, and its instance's stack
// pointer comes back after: the page's own thread goes on calling malloc0
// once the stacks' block is freed.
export function runThread(options) {
  const { exports, stackTop } = options;
  const stack = exports.__stack_pointer?.value;
  try {
    if (stackTop) exports.__stack_pointer.value = stackTop;
    return operateThread(options);
  } catch (error) {
    Atomics.store(options.control, FAILED, 1);
    throw error;
  } finally {
    if (stackTop) exports.__stack_pointer.value = stack;
  }
}

// The first failure among the threads' results (from Promise.allSettled),
// rather than the others' ANOTHER_FAILED; or null.
export function firstFailure(settled) {
  const failures = settled.filter((s) => s.status === 'rejected').map((s) => s.reason);
  return failures.find((e) => !`${e?.message}`.includes(ANOTHER_FAILED)) ?? failures[0] ?? null;
}

function operateThread({ exports, memory, id, threads, operations, seed, rings, control, marks, align = 16 }) {
  const rng = random(seed);
  const live = new Map(); // address -> { size, key }
  const order = []; // live addresses, for picking one at random
  const where = new Map(); // address -> index in order
  let serial = 0;
  let step = 0;
  let markSeen = 0;
  const fail = (message) => { throw new Error(`thread ${id}, seed ${seed}, step ${step}: ${message}`); };
  // Waits until the control word at index reaches count, receiving blocks
  // or not meanwhile.
  const awaitCount = (index, count, receiving) => {
    while (Atomics.load(control, index) < count) {
      if (Atomics.load(control, FAILED)) throw new Error(ANOTHER_FAILED);
      if (receiving) receive();
    }
  };

  const checkPattern = (address, size, key, why) => {
    const at = exports.pattern_check(address, size, key) >>> 0;
    if (at) fail(`${why}: byte ${at - 1} of block ${address}+${size} changed`);
  };
  // A block just allocated (fresh: not realloc's in place, which may stay
  // below a mark taken since).
  const track = (address, size, fresh = true) => {
    if (address === 0) return;
    if (address % align !== 0) fail(`block ${address} is not ${align}-aligned`);
    if (address + size > memory.buffer.byteLength) fail(`block ${address}+${size} ends outside memory`);
    if (exports.malloc_usable_size(address) >>> 0 < size) fail(`block ${address} is smaller than ${size}`);
    if (fresh && markSeen && address < markSeen) fail(`block ${address}, allocated after mark ${markSeen} was taken, lies below it`);
    const key = ((id + 1) << 24 ^ ++serial * 0x9e37) >>> 0;
    exports.pattern_fill(address, size, key);
    live.set(address, { size, key });
    if (marks && step <= PINNED_STEPS) return; // never picked: kept to the end
    where.set(address, order.length);
    order.push(address);
  };
  const forget = (address) => {
    const index = where.get(address);
    const last = order.pop();
    if (last !== address) {
      order[index] = last;
      where.set(last, index);
    }
    where.delete(address);
    live.delete(address);
  };
  const pick = () => order[rng.below(order.length)];
  const release = (address) => {
    const { size, key } = live.get(address);
    checkPattern(address, size, key, 'before free');
    forget(address);
    exports.free(address);
  };

  const ring = (from, to) => (from * threads + to) * RING_INTS;
  const handOver = (address) => {
    const to = (id + 1 + rng.below(threads - 1)) % threads;
    const base = ring(id, to);
    const tail = Atomics.load(rings, base + 1);
    if (tail - Atomics.load(rings, base) >= RING_SLOTS) return;
    const { size, key } = live.get(address);
    const slot = base + 2 + (tail % RING_SLOTS) * SLOT_INTS;
    rings[slot] = address;
    rings[slot + 1] = size;
    rings[slot + 2] = key;
    forget(address);
    Atomics.store(rings, base + 1, tail + 1);
  };
  // Checks and frees every block other threads handed over; returns how many.
  const receive = () => {
    let count = 0;
    for (let from = 0; from < threads; from++) {
      if (from === id) continue;
      const base = ring(from, id);
      let head = Atomics.load(rings, base);
      const tail = Atomics.load(rings, base + 1);
      for (; head < tail; head++, count++) {
        const slot = base + 2 + (head % RING_SLOTS) * SLOT_INTS;
        const address = rings[slot] >>> 0;
        checkPattern(address, rings[slot + 1], rings[slot + 2] >>> 0, `block handed over by thread ${from}`);
        exports.free(address);
      }
      Atomics.store(rings, base, head);
    }
    return count;
  };
  const sweep = (why) => { for (const [address, { size, key }] of live) checkPattern(address, size, key, why); };
  // All threads wait here until every one arrives, receiving blocks or not
  // meanwhile; round counts from 1.
  const barrier = (round, receiving) => {
    Atomics.add(control, BARRIER, 1);
    awaitCount(BARRIER, round * threads, receiving);
  };

  const operate = () => {
    const roll = rng.next();
    const mallocShare = live.size < LIVE_LIMIT ? 0.5 : 0.3;
    if (roll < mallocShare) {
      const kind = rng.next();
      const size = randomSize(rng);
      if (kind < 0.85) {
        track(exports.malloc(size) >>> 0, size);
      } else if (kind < 0.93) {
        const address = exports.calloc(1, size) >>> 0;
        if (address && exports.zero_check(address, size) >>> 0) fail(`calloc block ${address}+${size} is not zero`);
        track(address, size);
      } else {
        const align = 2 ** (4 + rng.below(9));
        const address = exports.aligned_alloc(align, size) >>> 0;
        if (address % align) fail(`aligned_alloc(${align}) gave ${address}`);
        track(address, size);
      }
    } else if (!order.length) {
      // nothing to free yet
    } else if (roll < 0.8) {
      release(pick());
    } else if (roll < 0.9) {
      const address = pick();
      const { size, key } = live.get(address);
      const wanted = randomSize(rng);
      const moved = exports.realloc(address, wanted) >>> 0;
      if (moved === 0) return;
      const kept = Math.min(size, wanted);
      checkPattern(moved, kept, key, `the first ${kept} bytes after realloc from ${address}`);
      forget(address);
      track(moved, wanted, moved !== address);
    } else if (threads > 1) {
      handOver(pick());
    }
  };

  const half = operations >> 1;
  for (step = 1; step <= operations; step++) {
    operate();
    if (step % 16 === 0) receive();
    if (step % SWEEP_EVERY === 0) sweep('sweep');
    if (!marks) continue;
    if (step === PINNED_STEPS) barrier(1, true);
    if (step === half >> 1 && id === 0) {
      const mark = exports.free_get_mark() >>> 0;
      if (!mark) fail('free_get_mark returned NULL');
      Atomics.store(control, MARK, mark);
    }
    if (!markSeen) markSeen = Atomics.load(control, MARK) >>> 0;
    if (step === half) {
      // Every hand-over precedes this barrier, so the rings are empty
      // after the receive that follows it, and stay so through the reset.
      barrier(2, true);
      receive();
      barrier(3, false);
      markSeen = Atomics.load(control, MARK) >>> 0;
      if (id === 0) exports.free_to_mark(markSeen);
      barrier(4, false);
      for (const address of [...order]) if (address >= markSeen) forget(address);
      sweep(`a block below mark ${markSeen} after free_to_mark`);
    }
  }
  Atomics.add(control, DONE, 1);
  awaitCount(DONE, threads, true);
  receive();
  if (marks) {
    barrier(5, false);
    if (id === 0) exports.free_pop_mark(markSeen);
    barrier(6, false);
    for (const address of [...order]) if (address >= markSeen) forget(address);
  }
  sweep('at the end');
  return [...live].map(([address, { size, key }]) => [address, size, key]);
}
