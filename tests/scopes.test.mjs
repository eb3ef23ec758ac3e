// Scopes that end: free_pop_mark releases a scope and ends its mark, so that
// memory freed below the mark is reused again, as if the scope had never
// been opened.  Checked against the shadow model, in both profiles and at
// every alignment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PAGE, WITH_FAST, loadHeap, random } from './lib/heap.mjs';
import { Shadow } from './lib/shadow.mjs';

const FRAMES = 3000;
const SETTLED_FRAME = 500;
const ENTITIES = 2000;
const SCRATCH_PER_FRAME = 50;
const SPAWNS_PER_FRAME = 5;

const entitySize = (rng) => 16 + rng.below(201);
const scratchSize = (rng) => 16 + rng.below(501);

// A game loop: a world of entities, a scratch scope per frame, and a few
// entities despawned (some during the frame, some after it) and spawned
// (after the frame: a block spawned inside the scope would go with it).
function frameLoop(heap, shadow, rng, onFrame) {
  const entities = [];
  for (let i = 0; i < ENTITIES; i++) entities.push(shadow.malloc(entitySize(rng)));
  for (let frame = 1; frame <= FRAMES; frame++) {
    const point = shadow.now();
    const mark = heap.getMark();
    assert.notEqual(mark, 0);
    for (let i = 0; i < SCRATCH_PER_FRAME; i++) assert.notEqual(shadow.malloc(scratchSize(rng)), 0);
    const despawnInside = frame % 2 === 0;
    const despawn = () => {
      for (let i = 0; i < SPAWNS_PER_FRAME; i++) {
        const at = rng.below(entities.length);
        shadow.free(entities[at]);
        entities[at] = entities[entities.length - 1];
        entities.pop();
      }
    };
    if (despawnInside) despawn();
    shadow.releaseAfter(point);
    heap.popMark(mark);
    if (!despawnInside) despawn();
    for (let i = 0; i < SPAWNS_PER_FRAME; i++) entities.push(shadow.malloc(entitySize(rng)));
    onFrame(frame);
  }
  return entities;
}

for (const build of WITH_FAST) {
  const reuses = build.profile === 'default';

  if (reuses) {
    test(`a scratch scope per frame beside spawned and despawned entities stays flat, ${build.name}`, () => {
      const heap = loadHeap(build);
      const shadow = new Shadow(heap);
      let settled;
      frameLoop(heap, shadow, random(11), (frame) => {
        if (frame === SETTLED_FRAME) settled = heap.stats();
        if (frame % 500 === 0) {
          shadow.assertAgrees();
          assert.equal(heap.stats().marks, 0, 'every frame scope ended');
        }
      });
      const end = heap.stats();
      assert.ok(end.memory_size <= settled.memory_size, `memory grew from ${settled.memory_size} to ${end.memory_size}`);
      assert.ok(end.peak_tail - settled.peak_tail <= 2 * PAGE,
        `the heap grew by ${end.peak_tail - settled.peak_tail} bytes after frame ${SETTLED_FRAME}`);
      shadow.verifyAll();
    });

    test(`a one-off scope, then steady replacement of the blocks below it, stays flat, ${build.name}`, () => {
      const heap = loadHeap(build);
      const shadow = new Shadow(heap);
      const rng = random(12);
      const world = [];
      for (let i = 0; i < 1000; i++) world.push(shadow.malloc(entitySize(rng)));
      const point = shadow.now();
      const mark = heap.getMark();
      for (let i = 0; i < 300; i++) shadow.malloc(scratchSize(rng));
      for (let i = 0; i < 100; i++) { // freed inside the scope: below its mark
        const at = rng.below(world.length);
        shadow.free(world[at]);
        world[at] = world[world.length - 1];
        world.pop();
      }
      shadow.releaseAfter(point);
      heap.popMark(mark);
      const after = heap.stats();
      assert.equal(after.marks, 0);
      assert.equal(after.scope_floor, after.heap_base, 'no scope is open');
      let below = 0;
      for (let i = 0; i < 100; i++) {
        world.push(shadow.malloc(entitySize(rng)));
        below += world[world.length - 1] < mark;
      }
      assert.ok(below >= 75, `only ${below} of 100 new blocks reused the holes freed in the scope`);
      for (let i = 0; i < 100000; i++) {
        const at = rng.below(world.length);
        shadow.free(world[at]);
        world[at] = shadow.malloc(entitySize(rng));
        if (i === 5000) var settled = heap.stats();
      }
      const end = heap.stats();
      assert.ok(end.peak_tail <= settled.peak_tail + PAGE / 4, `the heap grew from ${settled.peak_tail} to ${end.peak_tail}`);
      shadow.assertAgrees();
      shadow.verifyAll();
    });

    test(`holes freed inside a scope are reused once it is popped, ${build.name}`, () => {
      const heap = loadHeap(build);
      const shadow = new Shadow(heap);
      const a = shadow.malloc(200);
      shadow.malloc(8);
      const point = shadow.now();
      const mark = heap.getMark();
      shadow.free(a); // below the mark: waits while the scope is open
      const inside = shadow.malloc(200);
      assert.ok(inside >= mark, 'a block of the scope lies above its mark');
      shadow.releaseAfter(point);
      heap.popMark(mark);
      assert.equal(shadow.malloc(200), a, 'the hole is reused after the pop');
      shadow.assertAgrees();
    });

    test(`nested scopes: an inner pop gives the outer scope its holes back, not the ones below it, ${build.name}`, () => {
      const heap = loadHeap(build);
      const shadow = new Shadow(heap);
      const low = shadow.malloc(300);
      shadow.malloc(8);
      const outerPoint = shadow.now();
      const outer = heap.getMark();
      const mid = shadow.malloc(300);
      shadow.malloc(8);
      const innerPoint = shadow.now();
      const inner = heap.getMark();
      shadow.free(low); // the heap start's scope
      shadow.free(mid); // the outer scope
      shadow.releaseAfter(innerPoint);
      heap.popMark(inner);
      const again = shadow.malloc(300);
      assert.equal(again, mid, 'the outer scope reuses its own hole');
      const next = shadow.malloc(300);
      assert.ok(next >= outer, 'and never a hole below its mark');
      shadow.releaseAfter(outerPoint);
      heap.popMark(outer);
      assert.equal(shadow.malloc(300), low, 'after the outer pop, the lowest hole is reused');
      shadow.assertAgrees();
    });
  } else {
    test(`after a pop, freeing the blocks below the mark moves the tail back over them, ${build.name}`, () => {
      const heap = loadHeap(build);
      const shadow = new Shadow(heap);
      const blocks = [shadow.malloc(100), shadow.malloc(50), shadow.malloc(70)];
      const point = shadow.now();
      const mark = heap.getMark();
      shadow.malloc(500);
      shadow.free(blocks[2]);
      shadow.free(blocks[1]);
      shadow.releaseAfter(point);
      heap.popMark(mark);
      assert.equal(heap.stats().tail, blocks[1] - 4, 'the tail moved back over the mark and the free blocks');
      shadow.free(blocks[0]);
      assert.equal(heap.stats().tail, heap.stats().heap_base);
      shadow.assertAgrees();
    });
  }

  test(`after every scope is popped and every block freed, malloc(1) returns the first block, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    const rng = random(13);
    const first = shadow.malloc(1);
    for (let i = 0; i < 200; i++) shadow.malloc(entitySize(rng));
    const worldPoint = shadow.now();
    const world = heap.getMark();
    for (let i = 0; i < 100; i++) shadow.malloc(entitySize(rng));
    const level = heap.getMark();
    for (let round = 0; round < 20; round++) {
      const point = shadow.now();
      for (let i = 0; i < 50; i++) shadow.malloc(scratchSize(rng));
      shadow.releaseAfter(point);
      heap.freeToMark(level); // the level loop keeps its mark
    }
    shadow.releaseAfter(worldPoint);
    heap.popMark(world); // ends the level mark above it too
    assert.equal(heap.stats().marks, 0);
    while (shadow.count) shadow.free(shadow.randomLive(rng));
    assert.equal(heap.stats().tail, heap.stats().heap_base, 'the heap is empty');
    assert.equal(shadow.malloc(1), first);
    shadow.assertAgrees();
  });

  test(`on a fresh heap, marks and resets come before the first block and take none, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    const start = heap.stats().heap_base;
    assert.ok(heap.check(), 'a fresh heap walks whole');
    heap.freeAll();
    heap.freeToMark(start);
    heap.popMark(start);
    const mark = heap.getMark();
    assert.equal(mark, start, 'a mark at the heap start is the heap start');
    assert.equal(heap.getMark(), start, 'taken again, the same');
    heap.freeAllMark();
    assert.equal(heap.stats().tail, start, 'no mark block');
    assert.equal(heap.stats().marks, 0);
    const first = shadow.malloc(24);
    assert.equal(first, start + 4, 'the first block starts the heap');
    const inner = heap.getMark();
    assert.notEqual(inner, start, 'a mark above a block takes a block');
    shadow.malloc(100);
    shadow.releaseAfter(0);
    heap.freeToMark(mark);
    assert.equal(heap.stats().tail, start, 'a reset to the heap start releases everything');
    assert.equal(shadow.malloc(24), first);
    shadow.assertAgrees();
    assert.ok(heap.check());
  });

  test(`a mark taken twice at one tail ends at its second pop, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    shadow.malloc(40);
    const outer = heap.getMark();
    const inner = heap.getMark();
    assert.equal(inner, outer, 'nothing allocated between: the same mark');
    assert.equal(heap.stats().marks, 1);
    const point = shadow.now();
    shadow.malloc(100);
    shadow.releaseAfter(point);
    heap.popMark(inner);
    assert.equal(heap.stats().tail, outer, 'the first pop releases the scope');
    assert.equal(heap.stats().marks, 1, 'and the mark stays for its other take');
    shadow.malloc(60);
    shadow.releaseAfter(point);
    heap.popMark(outer);
    assert.equal(heap.stats().marks, 0, 'the second pop ends it');
    assert.ok(heap.stats().tail < outer, 'the mark block is gone');
    shadow.assertAgrees();
  });

  test(`popping a mark ends the marks above it; free_to_mark keeps its mark, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    shadow.malloc(40);
    const point = shadow.now();
    const outer = heap.getMark();
    shadow.malloc(40);
    const inner = heap.getMark();
    shadow.malloc(40);
    assert.equal(heap.stats().marks, 2);
    assert.equal(heap.stats().scope_floor, inner);
    shadow.releaseAfter(point);
    heap.freeToMark(outer);
    assert.equal(heap.stats().marks, 1, 'free_to_mark ends the marks above its mark only');
    shadow.malloc(40);
    shadow.releaseAfter(point);
    heap.popMark(outer);
    assert.equal(heap.stats().marks, 0);
    assert.equal(heap.stats().scope_floor, heap.stats().heap_base);
    shadow.assertAgrees();
  });

  test(`popping the base mark returns it to the heap start, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    const kept = shadow.malloc(100);
    shadow.malloc(8);
    heap.freeAllMark();
    const base = heap.stats().base_mark;
    assert.notEqual(base, heap.stats().heap_base);
    shadow.free(kept); // below the base mark: waits while it stands
    const point = shadow.now();
    shadow.malloc(300);
    shadow.releaseAfter(point);
    heap.freeAll();
    assert.equal(heap.stats().tail, base, 'free_all keeps what lies below the base mark');
    heap.popMark(base);
    const stats = heap.stats();
    assert.equal(stats.base_mark, stats.heap_base, 'the base mark is back at the heap start');
    assert.equal(stats.marks, 0);
    if (reuses) assert.equal(shadow.malloc(100), kept, 'the hole below the old base mark is reused');
    shadow.releaseAfter(0);
    heap.freeAll();
    assert.equal(heap.stats().tail, stats.heap_base, 'free_all now releases everything');
    shadow.assertAgrees();
  });
}
