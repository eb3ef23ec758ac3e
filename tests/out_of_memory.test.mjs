// With a host maximum of MAX_PAGES (linked with --max-memory, or an imported
// memory with a maximum), malloc returns NULL once memory is exhausted, with
// the heap unchanged; everything freed can be allocated again; and the very
// last bytes the host allows can still be had.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, BUILDS64, MAX_PAGES, PAGE, TAGS, grainOf, loadHeap, random } from './lib/heap.mjs';
import { Shadow } from './lib/shadow.mjs';

const LIMIT = MAX_PAGES * PAGE;
const TAG = 4;

// Allocates random sizes until malloc fails, then ever smaller ones until
// even malloc(0) fails. Returns the number of blocks.
function exhaust(shadow, rng) {
  while (shadow.malloc(rng.below(65537))) { /* fill */ }
  for (let size = 65536; ; size >>= 1) {
    while (shadow.malloc(size)) { /* fill */ }
    const before = shadow.heap.stats();
    assert.equal(shadow.heap.malloc(size), 0);
    assert.deepEqual(shadow.heap.stats(), before, 'a failed malloc changed the heap');
    if (size === 0) return shadow.count;
  }
}

for (const build of [...BUILDS, ...BUILDS64]) {
  const { align } = build;
  // wasm64 runs with a maximum of its own; Node 20's imported memory64 API differs.
  for (const variant of build.wasm64 ? ['max'] : ['max', 'import']) {
    test(`allocate until NULL, free, allocate again: ${variant}, ${build.name}`, () => {
      const heap = loadHeap(build, variant);
      const shadow = new Shadow(heap);
      const rng = random(align);
      const count = exhaust(shadow, rng);
      assert.ok(count > 0);
      const full = heap.stats();
      assert.equal(full.memory_size, LIMIT, 'memory grew to the host maximum');
      assert.ok(LIMIT - full.tail < TAGS + grainOf(align) + TAG, 'the heap was filled to the end');
      shadow.assertAgrees();

      // Free everything one by one, in random order: the tail comes back.
      while (shadow.count) shadow.free(shadow.randomLive(rng));
      shadow.assertAgrees();
      assert.equal(heap.stats().tail, full.heap_base, 'all memory returned to the tail');
      assert.equal(exhaust(shadow, rng) > 0, true, 'allocating again succeeds');
      shadow.assertAgrees();

      // And with free_all.
      shadow.releaseAfter(0);
      heap.freeAll();
      shadow.assertAgrees();
      assert.ok(exhaust(shadow, rng) > 0);
      shadow.assertAgrees();
      shadow.verifyAll();
    });

    test(`the last bytes below the host maximum can be allocated: ${variant}, ${build.name}`, () => {
      const heap = loadHeap(build, variant);
      const shadow = new Shadow(heap);
      shadow.malloc(1000);
      // malloc0.h: the heap ends at least one tag (4 bytes) below the
      // memory's end, and blocks are multiples of the grain.
      const room = LIMIT - TAG - heap.stats().tail;
      const largest = Math.floor(room / grainOf(align)) * grainOf(align) - TAGS;
      assert.equal(heap.malloc(largest + 1), 0, 'one byte more than fits');
      assert.notEqual(shadow.malloc(largest), 0, 'exactly what fits');
      assert.equal(heap.stats().memory_size, LIMIT);
      assert.equal(heap.malloc(0), 0);
      shadow.assertAgrees();
    });

    test(`marks and free_all near the host maximum: ${variant}, ${build.name}`, () => {
      const heap = loadHeap(build, variant);
      const shadow = new Shadow(heap);
      const rng = random(align + 100);
      const point = shadow.now();
      const mark = heap.getMark();
      assert.notEqual(mark, 0);
      exhaust(shadow, rng);
      assert.equal(heap.getMark(), 0, 'no room for a mark block');
      shadow.assertAgrees();
      for (let round = 0; round < 3; round++) {
        shadow.releaseAfter(point);
        heap.freeToMark(mark);
        shadow.assertAgrees();
        exhaust(shadow, rng);
        shadow.assertAgrees();
      }
      shadow.verifyAll();
    });
  }
}
