// Random mixes of malloc, calloc, aligned_alloc, realloc, free, marks,
// resets and pops, checked against the shadow model after every operation
// and with malloc0_check every few hundred.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, BUILDS64, CHECKS, loadHeap } from './lib/heap.mjs';
import { random, sizeFrom } from './lib/random.mjs';
import { Shadow } from './lib/shadow.mjs';

const OPERATIONS_PER_SEED = 60000; // 300,000 per wasm32 build
const CHECK_EVERY = 250;
const LIVE_TARGET = 300;

// Mostly small blocks, some medium, a few up to 64 KiB, one in 500 a large
// buffer of up to 4 MiB.
const SIZES = [[0.002, (4 << 20) - 1], [0.6, 64], [0.9, 1024], [1, 64 << 10]];
const randomSize = (rng) => sizeFrom(rng, SIZES);

// Returns every address handed out, in order, as offsets from the heap base
// (static data, and so the base, may differ from build to build).
function run(build, seed, variant, operations = OPERATIONS_PER_SEED) {
  const heap = loadHeap(build, variant);
  const shadow = new Shadow(heap);
  const rng = random(seed);
  // Live marks, oldest first: { mark, point, takes }.  free_get_mark at a
  // tail that already is a mark takes that mark once more.  Entries below
  // baseIndex (the base mark's entry; -1: the heap start) are shielded.
  let marks = [];
  let baseIndex = -1;
  let base = 0; // allocation count when free_all_mark last moved the base mark
  const heapStart = heap.stats().heap_base;
  const take = (mark) => {
    const top = marks[marks.length - 1];
    if (top?.mark === mark) top.takes++;
    else marks.push({ mark, point: shadow.now(), takes: 1 });
  };
  const pickLive = () => {
    const first = Math.max(baseIndex, 0);
    return marks.length > first ? first + rng.below(marks.length - first) : -1;
  };
  const counts = { malloc: 0, calloc: 0, aligned: 0, realloc: 0, free: 0, freeNewest: 0, mark: 0, toMark: 0, pop: 0, popEnds: 0, freeAll: 0, allMark: 0 };

  for (let step = 1; step <= OPERATIONS_PER_SEED; step++) {
    const roll = rng.next();
    const mallocShare = shadow.count < LIVE_TARGET ? 0.55 : 0.45;
    if (roll < mallocShare) {
      const kind = rng.next();
      if (kind < 0.8) {
        assert.notEqual(shadow.malloc(randomSize(rng)), 0, 'malloc returned NULL');
        counts.malloc++;
      } else if (kind < 0.9) {
        assert.notEqual(shadow.calloc(1 + rng.below(8), randomSize(rng) >> 3), 0, 'calloc returned NULL');
        counts.calloc++;
      } else {
        assert.notEqual(shadow.aligned(2 ** rng.below(13), randomSize(rng)), 0, 'aligned_alloc returned NULL');
        counts.aligned++;
      }
    } else if (roll < 0.65) {
      if (shadow.count) {
        const p = shadow.randomLive(rng);
        assert.notEqual(shadow.realloc(p, randomSize(rng)), 0, 'realloc returned NULL');
        counts.realloc++;
      }
    } else if (roll < 0.8) {
      if (shadow.count) { shadow.free(shadow.randomLive(rng)); counts.free++; }
    } else if (roll < 0.97) {
      const p = shadow.newest();
      if (p) { shadow.free(p); counts.freeNewest++; }
    } else if (roll < 0.982) {
      const mark = heap.getMark();
      assert.notEqual(mark, 0, 'free_get_mark returned NULL');
      take(mark);
      counts.mark++;
    } else if (roll < 0.99) {
      const depth = pickLive();
      if (depth >= 0) {
        const { mark, point } = marks[depth];
        marks = marks.slice(0, depth + 1);
        shadow.releaseAfter(point);
        heap.freeToMark(mark);
        counts.toMark++;
      }
    } else if (roll < 0.997) {
      const depth = pickLive();
      if (depth >= 0) {
        const entry = marks[depth];
        marks = marks.slice(0, depth + 1);
        shadow.releaseAfter(entry.point);
        heap.popMark(entry.mark);
        counts.pop++;
        if (entry.mark !== heapStart && --entry.takes === 0) {
          marks.pop();
          counts.popEnds++;
          if (depth === baseIndex) { baseIndex = -1; base = 0; }
          assert.ok(heap.stats().tail <= entry.mark - heap.markBlock, 'the mark block left the heap');
        }
      }
    } else if (roll < 0.999) {
      shadow.releaseAfter(base);
      heap.freeAll();
      marks = marks.slice(0, baseIndex + 1);
      counts.freeAll++;
    } else {
      heap.freeAllMark();
      const { tail } = heap.stats();
      base = shadow.now();
      if (tail !== heapStart) {
        take(tail);
        baseIndex = marks.length - 1;
        base = marks[baseIndex].point;
      }
      counts.allMark++;
    }
    if (step % CHECK_EVERY === 0) {
      shadow.assertAgrees();
      const blocks = new Set(marks.map((m) => m.mark).filter((m) => m !== heapStart));
      assert.equal(heap.stats().marks, blocks.size, 'mark blocks in the heap');
    }
  }
  shadow.verifyAll();
  shadow.assertAgrees();
  for (const [name, n] of Object.entries(counts)) assert.ok(n > 0, `no ${name} operation ran`);
  return shadow.trace.map((p) => p - heapStart);
}

// Seeds 1 to 5, each on its own build: -O2; bulk memory (memory.fill,
// memory.copy) at -Oz; MALLOC0_FAST at -O2 and at -Oz; the debug build,
// whose CHECKs trap where an invariant breaks.
const VARIANTS = ['plain', 'bulk', 'fast', 'fastz', 'debug'];
// wasm64 has only the first two builds, and MALLOC0_CHECKS=0 no debug one.
const has = (build, variant) => (build.wasm64 ? VARIANTS.indexOf(variant) < 2 : CHECKS || variant !== 'debug');
// Builds that differ only in the optimization level: the same calls must
// give the same addresses.
const SAME_HEAP = [['plain', 'bulk'], ['fast', 'fastz']];
const SAME_HEAP_SEED = 6;
const SAME_HEAP_OPERATIONS = 20000;

for (const build of [...BUILDS, ...BUILDS64]) {
  VARIANTS.forEach((variant, i) => {
    const seed = i + 1;
    if (has(build, variant)) test(`random operations, seed ${seed}, ${variant}, ${build.name}`, () => run(build, seed, variant));
  });
  for (const [speed, size] of SAME_HEAP.filter((pair) => pair.every((v) => has(build, v)))) {
    test(`the same operations give the same addresses at -O2 (${speed}) and -Oz (${size}), ${build.name}`, () => {
      const atSpeed = run(build, SAME_HEAP_SEED, speed, SAME_HEAP_OPERATIONS);
      const atSize = run(build, SAME_HEAP_SEED, size, SAME_HEAP_OPERATIONS);
      assert.ok(atSpeed.length > SAME_HEAP_OPERATIONS / 4);
      const first = atSpeed.findIndex((p, i) => p !== atSize[i]);
      assert.equal(first, -1, `allocation ${first}: base + ${atSpeed[first]} at -O2, base + ${atSize[first]} at -Oz`);
      assert.equal(atSpeed.length, atSize.length);
    });
  }
}
