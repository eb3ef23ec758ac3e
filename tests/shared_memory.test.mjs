// Linear memory shared with other code, and all 4 GiB of it.
//
// The heap grows only into pages its own memory.grow returned: JS grows
// memory behind its back at random points of a random-operations run and
// fills those pages, and no block may ever overlap them nor any byte of
// them change.  Near the top of the 32-bit space, a free block serves any
// request it fits, whatever the tail's address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, MAX_PAGES, PAGE, loadHeap, random } from './lib/heap.mjs';
import { Shadow } from './lib/shadow.mjs';

const STEPS = 20000;
const GROW_ONE_IN = 400;
const FOREIGN_BYTE = 0xa5;

// Pages JS grew for itself, filled with FOREIGN_BYTE: [start, end) ranges.
class Foreign {
  constructor(heap) {
    this.heap = heap;
    this.ranges = [];
  }

  // Grows memory by pages for JS itself; false when the host refuses.
  grow(pages) {
    let old;
    try {
      old = this.heap.memory.grow(pages);
    } catch {
      return false;
    }
    const start = old * PAGE;
    const end = start + pages * PAGE;
    this.heap.bytes().fill(FOREIGN_BYTE, start, end);
    this.ranges.push([start, end]);
    return true;
  }

  assertApart(p, size) {
    for (const [start, end] of this.ranges) {
      assert.ok(p + Math.max(size, 1) <= start || p >= end,
        `block ${p}+${size} overlaps pages JS grew for itself at ${start}..${end}`);
    }
  }

  assertIntact() {
    const bytes = this.heap.bytes();
    for (const [start, end] of this.ranges) {
      const at = bytes.subarray(start, end).findIndex((b) => b !== FOREIGN_BYTE);
      assert.equal(at, -1, `byte ${start + at} of pages JS grew for itself was written`);
    }
  }
}

// Random mallocs, frees, reallocs, marks, resets and pops, with JS growing
// memory now and then; every new block is checked against JS's pages.
function run(build, variant, seed) {
  const heap = loadHeap(build, variant, { maxPages: 4096 });
  const shadow = new Shadow(heap);
  const foreign = new Foreign(heap);
  const rng = random(seed);
  const marks = []; // { mark, point, takes }, as in random_operations.test.mjs
  const heapStart = heap.stats().heap_base;
  const checked = (p, size) => { if (p) foreign.assertApart(p, size); return p; };
  shadow.malloc(16); // the heap's memory is what memory holds at its first allocation
  for (let step = 1; step <= STEPS; step++) {
    const roll = rng.next();
    if (rng.below(GROW_ONE_IN) === 0) foreign.grow(1 + rng.below(3));
    if (roll < 0.45) {
      const size = rng.next() < 0.9 ? rng.below(600) : rng.below(70000);
      checked(shadow.malloc(size), size);
    } else if (roll < 0.55) {
      if (shadow.count) {
        const size = rng.below(3000);
        checked(shadow.realloc(shadow.randomLive(rng), size), size);
      }
    } else if (roll < 0.82) { // fewer frees than mallocs: the heap keeps growing into new pages
      if (shadow.count) shadow.free(rng.next() < 0.5 ? shadow.randomLive(rng) : shadow.newest() || shadow.randomLive(rng));
    } else if (roll < 0.9) {
      const mark = heap.getMark();
      const top = marks[marks.length - 1];
      if (top?.mark === mark) top.takes++; else marks.push({ mark, point: shadow.now(), takes: 1 });
    } else if (roll < 0.95) {
      if (marks.length) {
        const depth = rng.below(marks.length);
        marks.length = depth + 1;
        shadow.releaseAfter(marks[depth].point);
        heap.freeToMark(marks[depth].mark);
      }
    } else if (marks.length) {
      const top = marks[marks.length - 1];
      shadow.releaseAfter(top.point);
      heap.popMark(top.mark);
      if (top.mark === heapStart || --top.takes === 0) marks.pop();
    }
    if (step % 500 === 0) {
      shadow.assertAgrees();
      foreign.assertIntact();
    }
  }
  assert.ok(foreign.ranges.length > 10, 'JS grew memory for itself');
  shadow.verifyAll();
  shadow.assertAgrees();
  foreign.assertIntact();
}

for (const build of BUILDS) {
  for (const variant of ['plain', 'import', 'fast']) {
    test(`no block overlaps pages JS grew for itself, random operations: ${variant}, ${build.name}`,
      () => run(build, variant, build.align + (variant === 'import' ? 100 : 0)));
  }

  test(`the heap passes pages others grew and is consistent after resets below them, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    const foreign = new Foreign(heap);
    shadow.malloc(100);
    const point = shadow.now();
    const mark = heap.getMark();
    assert.ok(foreign.grow(2));
    // Fill the heap's own memory and go past JS's pages.
    const end = heap.stats().memory_size;
    while (heap.stats().tail < end) foreign.assertApart(shadow.malloc(5000), 5000);
    shadow.assertAgrees();
    foreign.assertIntact();
    // Back below the gap, and past it again, three times.
    for (let round = 0; round < 3; round++) {
      shadow.releaseAfter(point);
      heap.freeToMark(mark);
      while (heap.stats().tail < end) foreign.assertApart(shadow.malloc(3000 + round), 3000 + round);
      shadow.assertAgrees();
      foreign.assertIntact();
    }
    shadow.releaseAfter(point);
    heap.popMark(mark);
    shadow.releaseAfter(0);
    heap.freeAll();
    assert.equal(heap.stats().tail, heap.stats().heap_base);
    foreign.assertApart(shadow.malloc(10 * PAGE), 10 * PAGE);
    shadow.assertAgrees();
    foreign.assertIntact();
  });

  test(`memory present at the first allocation is the heap's, ${build.name}`, () => {
    const heap = loadHeap(build, 'import', { maxPages: 64 });
    heap.memory.grow(6); // before malloc0 first runs: the heap's to use
    const shadow = new Shadow(heap);
    const size = 6 * PAGE;
    const p = shadow.malloc(size);
    assert.ok(p && p + size <= 8 * PAGE, 'the block lies in the pages present at the start');
    assert.equal(heap.stats().memory_size, 8 * PAGE, 'no memory.grow was needed');
    shadow.assertAgrees();
  });

  if (build.profile === 'default') {
    test(`when memory has run out, a hole that is not its class's head still serves, ${build.name}`, () => {
      const heap = loadHeap(build, 'max');
      const shadow = new Shadow(heap);
      // Two holes in the largest class, the smaller one at its head.
      const large = shadow.malloc(1500000);
      shadow.malloc(16);
      const small = shadow.malloc(600000);
      shadow.malloc(16);
      while (shadow.malloc(60000)) { /* use up the memory above */ }
      while (shadow.malloc(1000)) { /* and the rest */ }
      shadow.free(large);
      shadow.free(small);
      const p = shadow.malloc(1000000);
      assert.equal(p, large, 'the hole that fits serves the request');
      shadow.assertAgrees();
      assert.ok(MAX_PAGES * PAGE - heap.stats().tail < PAGE);
    });
  }

  test(`near the top of 4 GiB, free blocks serve requests whatever the tail's address, ${build.name}`, () => {
    const heap = loadHeap(build, 'top');
    const shadow = new Shadow(heap);
    const BIG = 64 << 20;
    const unwritten = { fill: false }; // touch only the tags of 4 GiB
    const big = [];
    for (let p; (p = shadow.malloc(BIG, unwritten));) big.push(p);
    assert.ok(big.length >= 60, `only ${big.length} blocks of 64 MiB`);
    const small = [];
    for (let i = 0; i < 1000; i++) {
      const p = shadow.malloc(40);
      if (!p) break;
      small.push(p);
    }
    assert.ok(small.length > 0, 'small blocks above the large ones');
    const top = heap.stats().tail;
    assert.ok(top > 0xfc000000, `the heap reaches the top of 4 GiB (${top})`);
    assert.equal(heap.malloc(BIG), 0, 'no room for another large block');
    for (const p of big) shadow.free(p);
    if (build.profile === 'tiny') {
      // The tiny profile reuses memory at the tail only: free the small ones.
      for (const p of small) shadow.free(p);
      assert.equal(heap.stats().tail, heap.stats().heap_base);
    }
    const again = [];
    for (let p; (p = shadow.malloc(BIG, unwritten));) again.push(p);
    assert.ok(again.length >= big.length, `${again.length} large blocks again, ${big.length} before`);
    for (const p of again) shadow.free(p);
    const huge = 3.5 * 2 ** 30;
    assert.notEqual(shadow.malloc(huge, unwritten), 0, 'one block of 3.5 GiB from the free space');
    shadow.assertAgrees();
  });
}
