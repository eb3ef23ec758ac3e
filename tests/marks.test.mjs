// Marks and mass resets: nested scopes release exactly what was allocated
// after their mark, level loops do not grow memory, and free_all keeps what
// was loaded before free_all_mark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, loadHeap, random } from './lib/heap.mjs';
import { Shadow } from './lib/shadow.mjs';

const LEVELS = 1000;
// Levels after which memory must not grow any more: by then every free
// pattern the seeded levels make has been seen.
const SETTLED = 100;

// A level: allocate blocks, free some of them, in a seeded order.
function playLevel(shadow, rng, blocks = 200) {
  for (let i = 0; i < blocks; i++) {
    shadow.malloc(rng.below(2000));
    if (rng.next() < 0.3) shadow.free(shadow.randomLive(rng));
  }
}

function loadWorld(shadow, rng) {
  for (let i = 0; i < 50; i++) shadow.malloc(rng.below(5000));
}

for (const build of BUILDS) {
  test(`level loop with one mark does not grow memory, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    const rng = random(7);
    loadWorld(shadow, rng);
    const point = shadow.now();
    const mark = heap.getMark();
    let peak;
    for (let level = 0; level < LEVELS; level++) {
      playLevel(shadow, random(level % 10));
      shadow.releaseAfter(point);
      heap.freeToMark(mark);
      if (level === SETTLED) peak = heap.stats();
      if (level % 100 === 0) shadow.assertAgrees();
    }
    const end = heap.stats();
    assert.equal(end.memory_size, peak.memory_size, 'memory grew');
    assert.equal(end.peak_tail, peak.peak_tail, 'the heap grew');
    assert.equal(end.tail, mark);
    shadow.verifyAll();
    shadow.assertAgrees();
  });

  test(`level loop taking a new mark each level does not grow memory, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    loadWorld(shadow, random(8));
    let first;
    let peak;
    for (let level = 0; level < LEVELS; level++) {
      const point = shadow.now();
      const mark = heap.getMark();
      first ??= mark;
      assert.equal(mark, first, 'the same tail gives the same mark');
      playLevel(shadow, random(level % 10));
      shadow.releaseAfter(point);
      heap.freeToMark(mark);
      if (level === SETTLED) peak = heap.stats();
    }
    assert.equal(heap.stats().peak_tail, peak.peak_tail, 'the heap grew');
    shadow.verifyAll();
    shadow.assertAgrees();
  });

  test(`session, world and level scopes nest, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    const rng = random(9);
    loadWorld(shadow, rng); // session data
    const sessionPoint = shadow.now();
    const session = heap.getMark();
    for (let world = 0; world < 5; world++) {
      loadWorld(shadow, rng);
      const worldPoint = shadow.now();
      const worldMark = heap.getMark();
      for (let level = 0; level < 20; level++) {
        const levelPoint = shadow.now();
        const levelMark = heap.getMark();
        playLevel(shadow, rng, 50);
        // Free some world blocks during the level: they stay freed.
        if (shadow.count) shadow.free(shadow.randomLive(rng));
        shadow.releaseAfter(levelPoint);
        heap.freeToMark(levelMark);
        shadow.assertAgrees();
      }
      shadow.releaseAfter(worldPoint);
      heap.freeToMark(worldMark);
      shadow.assertAgrees();
      shadow.releaseAfter(sessionPoint);
      heap.freeToMark(session);
      shadow.assertAgrees();
    }
    shadow.verifyAll();
  });

  test(`free_all keeps what was loaded before free_all_mark, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    const rng = random(10);
    loadWorld(shadow, rng);
    heap.freeAllMark();
    const base = shadow.now();
    const loaded = heap.stats();
    let peak;
    for (let round = 0; round < LEVELS; round++) {
      playLevel(shadow, random(round % 10), 100);
      shadow.releaseAfter(base);
      heap.freeAll();
      if (round === SETTLED) peak = heap.stats();
    }
    const end = heap.stats();
    assert.equal(end.tail, loaded.tail);
    assert.equal(end.base_mark, loaded.tail);
    assert.equal(end.peak_tail, peak.peak_tail, 'the heap grew');
    shadow.verifyAll();
    shadow.assertAgrees();
  });

  test(`free_all before free_all_mark releases everything, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    playLevel(shadow, random(11));
    shadow.releaseAfter(0);
    heap.freeAll();
    shadow.assertAgrees();
    assert.equal(heap.stats().tail, heap.stats().heap_base);
    assert.equal(heap.stats().blocks_in_use, 0);
  });
}
