// Memory beyond the live bytes, on patterns shaped like real programs and on
// adversarial ones, within the bounds malloc0.h states:
// - large buffers (images, audio, tensors) replaced at random, each new one
//   allocated before the old one is freed: within 1.5 times the live bytes
//   under a 256 MiB maximum; the tiny profile, which reuses memory only at
//   the tail, runs out and says so with NULL, its heap intact;
// - sizes that double each phase while every other block is freed, and an
//   adversary that sees addresses and keeps one block in every stretch the
//   next size would fit in (after Robson): within the stated factors.
// Every block is checked against its neighbours (no overlap, inside memory)
// and keeps a signature at both ends, checked when it is freed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, PAGE, loadHeap, random } from './lib/heap.mjs';

const MiB = 1 << 20;
const KiB = 1 << 10;
const MAX_PAGES = 4096; // 256 MiB
const LIVE_FACTOR = 1.5;
const BUFFERS = 20;
const STEPS = 2000;
const CHECK_EVERY = 100;
// malloc0.h's bounds on the adversarial patterns: memory over the most
// bytes live at once.
const DOUBLING_FACTOR = 2.5;
// No allocator that never moves blocks can promise less than Robson's
// M (log2(n) / 2 + 1) for blocks n times apart in size: 6 M here (n = 1024).
const ROBSON_FACTOR = 7;

// Live blocks with signatures at both ends; each new one is checked
// against the others and memory's end.
class Buffers {
  constructor(heap) {
    this.heap = heap;
    this.live = new Map(); // address -> { size, tag }
    this.bytes = 0;
    this.peak = 0;
    this.serial = 0;
  }

  malloc(size) {
    const p = this.heap.malloc(size);
    if (!p) return 0;
    const memoryEnd = this.heap.memory.buffer.byteLength;
    assert.ok(p + size <= memoryEnd, `block ${p}+${size} beyond memory ${memoryEnd}`);
    assert.equal(p % this.heap.align, 0, `block ${p} misaligned`);
    for (const [q, { size: n }] of this.live) {
      assert.ok(p + size <= q || q + n <= p, `block ${p}+${size} overlaps ${q}+${n}`);
    }
    const tag = ++this.serial;
    this.#sign(p, size, tag);
    this.live.set(p, { size, tag });
    this.bytes += size;
    this.peak = Math.max(this.peak, this.bytes);
    return p;
  }

  free(p) {
    this.verify(p);
    this.bytes -= this.live.get(p).size;
    this.live.delete(p);
    this.heap.free(p);
  }

  verify(p) {
    const { size, tag } = this.live.get(p);
    const view = new DataView(this.heap.memory.buffer);
    assert.equal(view.getUint32(p, true), tag, `the start of block ${p} changed`);
    assert.equal(view.getUint32(p + size - 4, true), tag, `the end of block ${p} changed`);
  }

  verifyAll() {
    for (const p of this.live.keys()) this.verify(p);
    assert.ok(this.heap.check(), 'malloc0_check');
  }

  #sign(p, size, tag) {
    const view = new DataView(this.heap.memory.buffer);
    view.setUint32(p, tag, true);
    view.setUint32(p + size - 4, tag, true);
  }

  // Memory the heap took, over the most bytes live at once.
  overhead() {
    const { memory_size: memory, heap_base: base } = this.heap.stats();
    return (memory - base) / this.peak;
  }
}

// 20 buffers of 512 KiB to 2.5 MiB (a tenth of 5-25 MiB), 2,000 steps: each
// picks one, allocates its replacement, then frees it.  Returns the step
// at which malloc returned NULL, or 0.
function replaceBuffers(buffers, rng) {
  const size = () => (512 + rng.below(2048 + 1)) * KiB;
  const slots = [];
  for (let i = 0; i < BUFFERS; i++) {
    const p = buffers.malloc(size());
    if (!p) return -1;
    slots.push(p);
  }
  for (let step = 1; step <= STEPS; step++) {
    const i = rng.below(BUFFERS);
    const p = buffers.malloc(size());
    if (!p) return step;
    buffers.free(slots[i]);
    slots[i] = p;
    if (step % CHECK_EVERY === 0) buffers.verifyAll();
  }
  return 0;
}

for (const build of BUILDS) {
  if (build.profile === 'default') {
    test(`large buffers replaced at random stay within ${LIVE_FACTOR} x the live bytes, ${build.name}`, (t) => {
      for (const seed of [1, 2]) {
        const heap = loadHeap(build, 'import', { maxPages: MAX_PAGES });
        const buffers = new Buffers(heap);
        assert.equal(replaceBuffers(buffers, random(seed)), 0, 'malloc returned NULL');
        buffers.verifyAll();
        const overhead = buffers.overhead();
        assert.ok(overhead <= LIVE_FACTOR, `seed ${seed}: memory is ${overhead.toFixed(3)} x the live bytes`);
        t.diagnostic(`seed ${seed}: memory is ${overhead.toFixed(3)} x the most bytes live`);
      }
    });
  } else {
    test(`large buffers replaced at random run the tiny profile out of memory with NULL, ${build.name}`, () => {
      const heap = loadHeap(build, 'import', { maxPages: MAX_PAGES });
      const buffers = new Buffers(heap);
      const failedAt = replaceBuffers(buffers, random(1));
      assert.ok(failedAt > 0, 'the tiny profile reuses only the tail: it must run out');
      buffers.verifyAll();
      assert.ok(heap.stats().memory_size <= MAX_PAGES * PAGE);
    });
  }
}

// Phase k allocates blocks of 64 << k bytes (up to 64 KiB) until a MiB is
// live, then frees every other one of them: the holes it leaves are too
// small for the next phase's blocks.
function doublingSizes(buffers) {
  for (let size = 64; size <= 64 * KiB; size *= 2) {
    const phase = [];
    while (buffers.bytes + size <= MiB) {
      const p = buffers.malloc(size);
      assert.notEqual(p, 0, 'malloc returned NULL');
      phase.push(p);
    }
    for (let i = 0; i < phase.length; i += 2) buffers.free(phase[i]);
  }
}

// An adversary that sees addresses (after Robson): phase k fills the live
// budget with blocks of 64 << k bytes, then frees every block but one in
// each aligned stretch of the next size, the one that reaches furthest into
// it, so that no hole the next blocks fit in is left where it can help it.
function robson(buffers) {
  for (let size = 64; size <= 64 * KiB; size *= 2) {
    while (buffers.bytes + size <= MiB) assert.notEqual(buffers.malloc(size), 0, 'malloc returned NULL');
    const stretch = 2 * size;
    const keep = new Map(); // stretch index -> the block kept in it
    for (const [p, { size: n }] of buffers.live) {
      const index = Math.floor(p / stretch);
      const kept = keep.get(index);
      if (kept === undefined || p + n > kept.end) keep.set(index, { p, end: p + n });
    }
    const kept = new Set([...keep.values()].map((k) => k.p));
    for (const p of [...buffers.live.keys()]) if (!kept.has(p)) buffers.free(p);
  }
}

for (const build of BUILDS.filter((b) => b.profile === 'default')) {
  for (const [name, pattern, factor] of [['doubling sizes', doublingSizes, DOUBLING_FACTOR],
    ['a Robson adversary', robson, ROBSON_FACTOR]]) {
    test(`${name}: memory within ${factor} x the most bytes live, ${build.name}`, (t) => {
      const heap = loadHeap(build, 'import', { maxPages: MAX_PAGES });
      const buffers = new Buffers(heap);
      pattern(buffers);
      buffers.verifyAll();
      const overhead = buffers.overhead();
      assert.ok(overhead <= factor, `memory is ${overhead.toFixed(3)} x the most bytes live`);
      t.diagnostic(`memory is ${overhead.toFixed(3)} x the most bytes live`);
    });
  }
}
