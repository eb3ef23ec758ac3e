// A bug in the program must not turn into a write the attacker chooses
// (malloc0.h, "The heap's own data"). One case at a time, one word that the
// allocator reads from freed memory or from a record (a hole's tags and
// links, a quick block's, a mark's record, a gap's record, a retired header,
// the header after a hole) is overwritten with a value an attacker would
// choose; then the operations that read it run, each new block filled as a
// program would. With MALLOC0_CHECKS every case must trap, or leave every
// live block's bytes as they were, hand out no block that overlaps a live
// one, and leave pages others grew alone. Without checks the same cases run
// and the output says how many corrupt live memory: that build promises
// nothing for invalid programs. One kind of case is counted apart, as
// malloc0.h says it goes undetected: the header of a block in use rewritten
// as a well-formed header of another size (the key is no secret), which
// that block's free or realloc then believes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHECKS, PAGE, WITH_FAST, grainOf, loadHeap } from './lib/heap.mjs';
import { Shadow } from './lib/shadow.mjs';

// malloc0.c's TAG_KEY: public, so an attacker knows it (0 without checks).
const KEY = CHECKS ? 0x9e3779b8 : 0;
const FOREIGN_BYTE = 0xa5;

const word = (heap, at) => new Uint32Array(heap.memory.buffer, at, 1)[0];
const poke = (heap, at, value) => { new Uint32Array(heap.memory.buffer, at, 1)[0] = value; };
const wordsOf = (from, bytes) => Array.from({ length: bytes / 4 }, (_, i) => from + 4 * i);

// What an attacker writes over the word at `at` that held v: small changes
// of it (a flag flipped, a size off by a grain), addresses (of live blocks,
// their headers, the word itself, the stack below the heap), and headers
// of the sizes that would reach over the live blocks nearby, plain (as free
// tags are) and scrambled with the key (as tags in use are).
function values(heap, at, v, { live, spans }) {
  const grain = grainOf(heap.align);
  const base = heap.stats().heap_base;
  const list = [0, 1, v ^ 1, v ^ 2, v ^ 4, v + grain, v - grain, v + 8 * grain, at, at + 4, base - 16,
    ...live.flatMap((p) => [p, p - 4, p - 8, p + 4]),
    ...spans.flatMap((s) => [s | 1, s | 3, (s ^ KEY) >>> 0, ((s ^ KEY) | 4) >>> 0])];
  return [...new Set(list.map((x) => x >>> 0))].filter((x) => x !== v >>> 0);
}

// Pages grown by JS itself in the middle of the heap: filled, never to be
// written by the heap.
class Foreign {
  constructor(heap) {
    this.heap = heap;
    this.ranges = [];
  }

  grow(pages) {
    const start = this.heap.memory.grow(pages) * PAGE;
    this.heap.bytes().fill(FOREIGN_BYTE, start, start + pages * PAGE);
    this.ranges.push([start, start + pages * PAGE]);
  }

  assertApart(p, size) {
    for (const [start, end] of this.ranges) {
      assert.ok(p === 0 || p + Math.max(size, 1) <= start || p >= end, `block ${p}+${size} lies in pages JS grew`);
    }
  }

  assertIntact() {
    const bytes = this.heap.bytes();
    for (const [start, end] of this.ranges) {
      assert.equal(bytes.subarray(start, end).findIndex((b) => b !== FOREIGN_BYTE), -1, 'pages JS grew were written');
    }
  }
}

// Five blocks of neighbour and size bytes in turn, the two of size freed,
// the lower one (target) last: in the default profile, linked to the other.
function twoFreed(heap, shadow, size, neighbour) {
  const before = shadow.malloc(neighbour);
  const target = shadow.malloc(size);
  const after = shadow.malloc(neighbour);
  const other = shadow.malloc(size);
  const last = shadow.malloc(neighbour);
  shadow.free(other);
  shadow.free(target);
  return { before, target, after, last, block: heap.blockSize(size) };
}

// Each scenario builds a heap, returns the words to attack and the
// operations that read them (each a function of the returned context).
const SCENARIOS = {
  // Two holes of one size (linked to each other in the default profile),
  // between blocks in use; the attacked words are those of the lower hole
  // and the header of the block after it.
  hole: {
    setup(heap, shadow) {
      const size = 400; // above the largest quick block
      const { before, target: hole, after, last, block } = twoFreed(heap, shadow, size, 100);
      return {
        words: [...wordsOf(hole - 4, 16), hole - 8 + block, hole - 4 + block],
        headers: [hole - 4 + block],
        live: [before, after, last],
        spans: [block, block + heap.blockSize(100), block + heap.blockSize(100) + block],
        ops: [
          (s) => s.malloc(size),
          (s) => s.malloc(size),
          (s) => s.free(before),
          (s) => s.realloc(after, 800),
          (s) => s.malloc(3 * size),
          (s) => s.free(last),
          (s) => s.malloc(2000),
        ],
      };
    },
  },
  // A small block freed between blocks in use: with MALLOC0_FAST a quick
  // block on its stack, above another of its size; else a small hole.
  small: {
    setup(heap, shadow) {
      const size = 40;
      const { before, target: small, after, last, block } = twoFreed(heap, shadow, size, 24);
      return {
        words: [...wordsOf(small - 4, block), small - 4 + block],
        headers: [small - 4 + block],
        live: [before, after, last],
        spans: [block, block + heap.blockSize(24), 2 * block + 2 * heap.blockSize(24)],
        ops: [
          (s) => s.malloc(size),
          (s) => s.malloc(size),
          (s) => s.free(after),
          (s) => s.free(before),
          (s) => { s.heap.getMark(); },
          (s) => s.malloc(5000),
          (s) => s.free(last),
        ],
      };
    },
  },
  // Two marks, holes in the outer one's scope, a block freed below the
  // inner mark (listed in the outer scope, found through the records):
  // the attacked words are those of both mark blocks that hold anything.
  // The outer mark is taken twice, the second time as the base mark: a
  // count of takes lowered would end it at the first pop, and free_all
  // would then release the block below it.
  records: {
    title: 'a mark\'s record',
    setup(heap, shadow) {
      const first = shadow.malloc(100);
      const outerPoint = shadow.now();
      const outer = heap.getMark();
      heap.freeAllMark();
      const hole = shadow.malloc(300);
      const below = shadow.malloc(300);
      const kept = shadow.malloc(50);
      shadow.free(hole);
      const innerPoint = shadow.now();
      const inner = heap.getMark();
      const above = shadow.malloc(200);
      shadow.malloc(20);
      const { markBlock } = heap;
      const words = [outer, inner].flatMap((m) => wordsOf(m - markBlock, markBlock))
        .filter((at, i) => i % (markBlock / 4) < 8 || word(heap, at) !== 0);
      return {
        words,
        live: [first, kept, above],
        spans: [markBlock, 2 * markBlock, heap.blockSize(300)],
        ops: [
          (s) => s.free(below),
          (s) => s.free(above),
          (s) => s.malloc(300),
          (s) => { s.releaseAfter(innerPoint); s.heap.popMark(inner); },
          (s) => s.malloc(300),
          (s) => s.malloc(600),
          (s) => { s.releaseAfter(outerPoint); s.heap.freeToMark(outer); },
          (s) => s.malloc(300),
          (s) => { s.releaseAfter(outerPoint); s.heap.popMark(outer); },
          (s) => { s.releaseAfter(outerPoint); s.heap.freeAll(); },
          (s) => s.malloc(1000),
        ],
      };
    },
  },
  // A mark taken after a block whose data is zeros but for its last word, a
  // size: a PREV_FREE bit forged on the mark's header makes that word read
  // as a hole's footer, and the zeros below as the hole's tags, so a pop
  // would move the tail into the block.
  zeroed: {
    title: 'a mark after zeroed data',
    setup(heap, shadow) {
      const data = heap.calloc(1, heap.markBlock * 4);
      const size = heap.usableSize(data); // the block's last word is its data
      shadow.add(data, size, false);
      const mark = heap.getMark();
      const header = mark - heap.markBlock;
      poke(heap, data + size - 4, heap.markBlock * 2);
      return {
        words: [header],
        live: [data],
        spans: [heap.markBlock, heap.blockSize(size)],
        ops: [
          (s) => { s.heap.popMark(mark); },
          (s) => s.malloc(size / 4),
          (s) => s.malloc(size),
        ],
      };
    },
  },
  // Blocks released by a reset: their headers, chained above the tail, are
  // erased as the tail passes them again (calloc's blocks must read zero).
  retired: {
    setup(heap, shadow) {
      const first = shadow.malloc(100);
      const point = shadow.now();
      const mark = heap.getMark();
      const released = [64, 200, 1000, 64].map((n) => shadow.malloc(n));
      shadow.releaseAfter(point);
      heap.freeToMark(mark);
      const second = shadow.malloc(30);
      return {
        words: [...released.map((p) => p - 4), heap.stats().tail],
        live: [first, second],
        spans: [heap.blockSize(64), heap.blockSize(1000), 2048],
        ops: [
          (s) => s.malloc(100),
          (s) => s.calloc(10, 100),
          (s) => s.calloc(5, 1000),
          (s) => s.calloc(1, PAGE),
        ],
      };
    },
  },
  // Pages JS grew between the heap's: the record of that gap, at the
  // heap's first page after them, is read when the tail passes it again
  // after a reset below it.
  gap: {
    setup(heap, shadow, foreign) {
      const first = shadow.malloc(100);
      const point = shadow.now();
      const mark = heap.getMark();
      foreign.grow(2);
      const end = heap.stats().memory_size;
      while (heap.stats().tail < end) shadow.malloc(5000);
      const record = foreign.ranges[0][1];
      shadow.releaseAfter(point);
      heap.freeToMark(mark);
      return {
        words: wordsOf(record, 12),
        live: [first],
        spans: [PAGE, 2 * PAGE],
        ops: [
          ...Array.from({ length: 40 }, () => (s) => s.malloc(5000)),
          (s) => { s.releaseAfter(point); s.heap.popMark(mark); },
          (s) => s.malloc(4 * PAGE),
        ],
      };
    },
  },
};

// Is value, over the header in use v at at, a header in use of another size?
function forgedHeader(context, at, v, value) {
  const size = (tag) => ((tag ^ KEY) & ~7) >>> 0;
  return (context.headers ?? []).includes(at) && (value & 3) === 0 && size(value) !== size(v);
}

// One case: 'trap', 'intact', or what broke.
function attack(build, scenario, index, value) {
  const heap = loadHeap(build);
  const shadow = new Shadow(heap);
  const foreign = new Foreign(heap);
  const context = scenario.setup(heap, shadow, foreign);
  poke(heap, context.words[index], value);
  try {
    for (const op of context.ops) {
      const p = op(shadow);
      if (typeof p === 'number') foreign.assertApart(p, 1);
      shadow.verifyAll();
      foreign.assertIntact();
    }
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError) return 'trap';
    if (error instanceof assert.AssertionError) return error.message;
    throw error;
  }
  return 'intact';
}

for (const build of WITH_FAST) {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    test(`a corrupted word of ${scenario.title ?? `a ${name}`} traps or harms no live block, ${build.name}`, (t) => {
      const probe = loadHeap(build);
      const context = scenario.setup(probe, new Shadow(probe), new Foreign(probe));
      const tally = { trap: 0, intact: 0, forged: 0 };
      const broken = [];
      context.words.forEach((at, index) => {
        const v = word(probe, at);
        for (const value of values(probe, at, v, context)) {
          const outcome = attack(build, scenario, index, value);
          if (outcome in tally) tally[outcome]++;
          else if (forgedHeader(context, at, v, value)) tally.forged++;
          else broken.push(`word ${at - probe.stats().heap_base} above the heap base := 0x${value.toString(16)}: ${outcome}`);
        }
      });
      t.diagnostic(`${context.words.length} words, ${tally.trap + tally.intact + tally.forged + broken.length} cases: ` +
        `${tally.trap} trapped, ${tally.intact} left live memory intact, ${broken.length} corrupted it` +
        (tally.forged ? `; ${tally.forged} well-formed headers of another size over a block in use corrupted it (undetected)` : ''));
      if (CHECKS) assert.deepEqual(broken.slice(0, 5), [], `${broken.length} cases corrupted live memory`);
      else if (broken.length) t.diagnostic(`without checks, for example: ${broken.slice(0, 3).join('; ')}`);
    });
  }
}
