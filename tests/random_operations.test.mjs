// Random mixes of malloc, calloc, aligned_alloc, realloc, free, marks and
// resets, checked against the shadow model after every operation and with
// malloc0_check every few hundred.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, loadHeap, random } from './lib/heap.mjs';
import { Shadow } from './lib/shadow.mjs';

const SEEDS = [1, 2, 3, 4];
const OPERATIONS_PER_SEED = 60000; // 240,000 per build
const CHECK_EVERY = 250;
const LIVE_TARGET = 300;

// Mostly small blocks, some medium, a few up to 64 KiB.
function randomSize(rng) {
  const roll = rng.next();
  if (roll < 0.6) return rng.below(65);
  if (roll < 0.9) return rng.below(1025);
  return rng.below(65537);
}

function run(build, seed, variant) {
  const heap = loadHeap(build, variant);
  const shadow = new Shadow(heap);
  const rng = random(seed);
  let marks = []; // stack of { mark, point }
  let base = 0; // allocation count when free_all_mark last moved the base mark
  const counts = { malloc: 0, calloc: 0, aligned: 0, realloc: 0, free: 0, freeNewest: 0, mark: 0, toMark: 0, freeAll: 0, allMark: 0 };

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
    } else if (roll < 0.985) {
      const mark = heap.getMark();
      assert.notEqual(mark, 0, 'free_get_mark returned NULL');
      marks.push({ mark, point: shadow.now() });
      counts.mark++;
    } else if (roll < 0.997) {
      if (marks.length) {
        const depth = rng.below(marks.length);
        const { mark, point } = marks[depth];
        marks = marks.slice(0, depth + 1);
        shadow.releaseAfter(point);
        heap.freeToMark(mark);
        counts.toMark++;
      }
    } else if (roll < 0.999) {
      shadow.releaseAfter(base);
      heap.freeAll();
      marks = [];
      counts.freeAll++;
    } else {
      heap.freeAllMark();
      base = shadow.now();
      marks = [];
      counts.allMark++;
    }
    if (step % CHECK_EVERY === 0) shadow.assertAgrees();
  }
  shadow.verifyAll();
  shadow.assertAgrees();
  for (const [name, n] of Object.entries(counts)) assert.ok(n > 0, `no ${name} operation ran`);
}

for (const build of BUILDS) {
  for (const seed of SEEDS) {
    // Even seeds run the build with bulk memory (memory.fill, memory.copy).
    const variant = seed % 2 ? 'plain' : 'bulk';
    test(`random operations, seed ${seed}, ${variant}, ${build.name}`, () => run(build, seed, variant));
  }
}
