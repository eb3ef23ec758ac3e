// The default profile reuses freed interior blocks (holes): memory stays
// within a bound of the live bytes on FIFO, steady-state and churn
// workloads, and holes below a mark are never handed to blocks allocated
// after it, so free_to_mark still releases everything it should.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAGE, TAGS, WITH_FAST, grainOf, loadHeap, random } from './lib/heap.mjs';
import { Shadow } from './lib/shadow.mjs';
import { churn, fifo, steady } from './lib/workloads.mjs';

const DEFAULT_BUILDS = WITH_FAST.filter((b) => b.profile === 'default');
const LIVE_FACTOR = 1.25;
const SMALL_CONSTANT = 4096;
const GROWTH_SLACK = 1 / 64; // memory grows by a 64th at a time
const LEVELS = 1000;
const SETTLED = 100;
const HEADER = TAGS;

for (const build of DEFAULT_BUILDS) {
  for (const [name, workload] of Object.entries({ fifo, steady, churn })) {
    test(`${name}: memory within ${LIVE_FACTOR} x live bytes + per-block overhead, ${build.name}`, () => {
      const heap = loadHeap(build);
      const shadow = new Shadow(heap);
      const peak = workload(shadow, random(1));
      shadow.assertAgrees();
      const stats = heap.stats();
      const perBlock = TAGS + grainOf(build.align) - 1;
      const bound = LIVE_FACTOR * peak.bytes + peak.blocks * perBlock + SMALL_CONSTANT;
      assert.ok(stats.peak_tail - stats.heap_base <= bound,
        `heap peaked at ${stats.peak_tail - stats.heap_base} bytes for ${peak.bytes} live in ${peak.blocks} blocks (bound ${bound})`);
      const pages = stats.memory_size / PAGE;
      const pageBound = Math.ceil((stats.peak_tail * (1 + GROWTH_SLACK)) / PAGE) + 1;
      assert.ok(pages <= pageBound, `${pages} pages for a peak tail of ${stats.peak_tail}`);
    });
  }

  test(`freed interior blocks are reused before the tail grows, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    const rng = random(3);
    const blocks = [];
    for (let i = 0; i < 400; i++) blocks.push(shadow.malloc(256 + rng.below(64)));
    shadow.malloc(10); // keeps the holes off the tail
    const { tail } = heap.stats();
    for (let i = 0; i < blocks.length; i += 2) shadow.free(blocks[i]);
    // Every request fits in every hole, and each hole holds two of them.
    for (let i = 0; i < blocks.length; i++) shadow.malloc(rng.below(120));
    assert.equal(heap.stats().tail, tail, 'the tail grew although holes fit');
    shadow.assertAgrees();
    shadow.verifyAll();
  });

  // Small freed blocks may wait unmerged for a request of their size
  // (quick lists, with MALLOC0_FAST): they must still give their
  // memory back to the tail, and merge when a scope begins.
  test(`small blocks freed in any order give all memory back to the tail, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    const rng = random(5);
    const { heap_base: base } = heap.stats();
    for (let round = 0; round < 20; round++) {
      const blocks = [];
      for (let i = 0; i < 200; i++) blocks.push(shadow.malloc(rng.below(300)));
      const last = blocks.pop();
      while (blocks.length) shadow.free(blocks.splice(rng.below(blocks.length), 1)[0]);
      assert.ok(heap.check());
      shadow.free(last);
      assert.equal(heap.stats().tail, base, `round ${round}: the heap is not empty`);
      assert.equal(heap.stats().bytes_free, 0);
    }
    shadow.assertAgrees();
  });

  // The block realloc moves from is released at once, merged with its free
  // neighbours (never kept in a quick stack for its exact size): any
  // request it fits may take it.
  test(`the block realloc moves from serves any smaller request, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    shadow.malloc(100000); // quick stacks may hold a 64th of the heap
    const old = shadow.malloc(48);
    shadow.malloc(8); // the block cannot grow in place
    assert.notEqual(shadow.realloc(old, 1000), old, 'realloc moved the block');
    assert.equal(shadow.malloc(20), old, 'a smaller request takes the old block');
    assert.ok(heap.check());
    shadow.assertAgrees();
  });

  // Holes under 16 KiB are taken oldest first (their neighbours have had
  // time to be freed and merge with them), larger ones newest first (a
  // buffer freed to be replaced is reused at once): in the base scope and
  // in a mark's.
  for (const inScope of [false, true]) {
    for (const [size, order] of [[1000, 'oldest'], [40000, 'newest']]) {
      test(`holes of ${size} bytes are taken ${order} first${inScope ? ' in a scope' : ''}, ${build.name}`, () => {
        const heap = loadHeap(build);
        const shadow = new Shadow(heap);
        if (inScope) heap.getMark();
        const blocks = [];
        for (let i = 0; i < 4; i++) {
          blocks.push(shadow.malloc(size));
          shadow.malloc(8); // keeps the holes apart
        }
        const freed = [blocks[2], blocks[0], blocks[3], blocks[1]];
        for (const p of freed) shadow.free(p);
        const taken = freed.map(() => shadow.malloc(size));
        assert.deepEqual(taken, order === 'oldest' ? freed : [...freed].reverse());
        assert.ok(heap.check());
        shadow.assertAgrees();
      });
    }
  }

  test(`small blocks freed before a mark are holes below it, reused after the pop, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    const blocks = [];
    for (let i = 0; i < 40; i++) blocks.push(shadow.malloc(24));
    for (let i = 0; i < 40; i += 2) shadow.free(blocks[i]);
    const freeBefore = heap.stats().bytes_free;
    const mark = heap.getMark();
    assert.equal(heap.stats().bytes_free, freeBefore, 'the freed blocks stay free');
    const inside = shadow.malloc(24);
    assert.ok(inside >= mark, 'a block in the scope lies above its mark');
    shadow.free(inside);
    heap.popMark(mark);
    const again = shadow.malloc(24);
    assert.ok(blocks.some((p, i) => i % 2 === 0 && p === again), 'a freed block below the mark is reused');
    assert.ok(heap.check());
    shadow.assertAgrees();
  });

  test(`level blocks never land in world holes below the level's mark, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    const rng = random(4);
    const world = [];
    for (let i = 0; i < 300; i++) world.push(shadow.malloc(16 + rng.below(400)));
    for (let i = 0; i < world.length; i += 2) shadow.free(world[i]); // holes
    const point = shadow.now();
    const mark = heap.getMark();
    let peak;
    for (let level = 0; level < LEVELS; level++) {
      const levelRng = random(level % 10);
      const levelBlocks = [];
      for (let i = 0; i < 150; i++) {
        const p = shadow.malloc(levelRng.below(400));
        assert.ok(p >= mark, `a level block (${p}) was placed below the mark (${mark})`);
        levelBlocks.push(p);
        if (levelRng.next() < 0.3) shadow.free(levelBlocks.splice(levelRng.below(levelBlocks.length), 1)[0]);
      }
      shadow.releaseAfter(point);
      heap.freeToMark(mark);
      if (level % 50 === 0) shadow.assertAgrees();
      if (level === SETTLED) peak = heap.stats();
    }
    const end = heap.stats();
    assert.equal(end.tail, mark, 'everything after the mark was released');
    assert.equal(end.peak_tail, peak.peak_tail, 'memory grew over the levels');
    assert.equal(end.memory_size, peak.memory_size);
    shadow.assertAgrees();
    shadow.verifyAll();
  });

  test(`holes freed below a mark wait, and are reused after a reset below them, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    const a = shadow.malloc(100);
    shadow.malloc(100);
    const pointBefore = shadow.now();
    const outer = heap.getMark();
    const w = shadow.malloc(100);
    shadow.malloc(100);
    const inner = heap.getMark();
    shadow.free(a); // below both marks: waits
    shadow.free(w); // between the marks: waits while the inner scope is open
    const p = shadow.malloc(100);
    assert.ok(p >= inner, 'a block allocated after the inner mark lies above it');
    shadow.releaseAfter(pointBefore);
    heap.freeToMark(outer); // the hole at w is released with its scope
    const q = shadow.malloc(100);
    assert.equal(q, heap.stats().tail - heap.blockSize(100) + HEADER, 'allocated at the tail');
    shadow.assertAgrees();
    assert.equal(heap.stats().bytes_free, heap.blockSize(100), 'the hole at a waits below the mark');
  });
}
