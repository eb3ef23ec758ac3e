// calloc, realloc, aligned_alloc, memalign, posix_memalign and
// malloc_usable_size, as malloc0.h documents them, in both profiles, at
// every alignment, with and without bulk memory (the bulk builds at -Oz).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, CHECKS, TAGS, UNDEFINED_WITHOUT_CHECKS, grainOf, loadHeap } from './lib/heap.mjs';
import { Shadow } from './lib/shadow.mjs';

const EINVAL = 28;
const ENOMEM = 48;
const MAX_ALIGN = 65536;
const UNWRITTEN = { fill: false };

function setup(build, variant = 'plain') {
  const heap = loadHeap(build, variant);
  return { heap, shadow: new Shadow(heap) };
}

function isZero(heap, p, n) {
  return heap.bytes().subarray(p, p + n).every((b) => b === 0);
}

for (const build of BUILDS) {
  for (const variant of ['plain', 'bulk']) {
    test(`calloc zeros reused memory, after free, free_all and marks: ${variant}, ${build.name}`, () => {
      const { heap, shadow } = setup(build, variant);
      // Dirty memory in the middle (a hole), at the tail, and after a reset.
      const blocks = [];
      for (let i = 0; i < 8; i++) blocks.push(shadow.malloc(200));
      shadow.free(blocks[2]);
      shadow.free(blocks[7]);
      assert.notEqual(shadow.calloc(10, 20), 0);
      assert.notEqual(shadow.calloc(1, 200), 0);
      const point = shadow.now();
      const mark = heap.getMark();
      for (let i = 0; i < 8; i++) shadow.malloc(300);
      shadow.releaseAfter(point);
      heap.freeToMark(mark);
      assert.notEqual(shadow.calloc(3, 700), 0);
      shadow.releaseAfter(0);
      heap.freeAll();
      assert.notEqual(shadow.calloc(1, 5000), 0);
      // Fresh memory beyond anything written, and odd sizes.
      assert.notEqual(shadow.calloc(1, 300000), 0);
      for (let n = 0; n < 40; n++) assert.notEqual(shadow.calloc(1, n), 0);
      shadow.assertAgrees();
      shadow.verifyAll();
    });
  }

  test(`calloc zeros the word a reset leaves at the highest tail, ${build.name}`, () => {
    const { heap, shadow } = setup(build);
    shadow.malloc(100);
    shadow.malloc(100); // the tail is at its peak
    shadow.releaseAfter(0);
    heap.freeAll(); // links the released blocks with a word at the old tail
    assert.notEqual(shadow.calloc(1, 1000), 0);
    shadow.assertAgrees();
  });

  test(`calloc returns NULL when count * size overflows, ${build.name}`, () => {
    const { heap, shadow } = setup(build);
    shadow.malloc(10);
    const before = heap.stats();
    for (const [count, each] of [[0x10000, 0x10000], [0xffffffff, 2], [2, 0x80000000], [0x80000001, 0x80000001]]) {
      assert.equal(heap.calloc(count, each), 0, `calloc(${count}, ${each})`);
    }
    assert.deepEqual(heap.stats(), before);
    const a = shadow.calloc(0, 100);
    const b = shadow.calloc(100, 0);
    assert.ok(a && b && a !== b, 'calloc of zero bytes gives unique pointers');
  });

  test(`realloc keeps content, grows and shrinks in place when it can, ${build.name}`, () => {
    const { heap, shadow } = setup(build);
    assert.notEqual(shadow.malloc(8), 0);
    // realloc(NULL, n) is malloc.
    const tailBlock = heap.realloc(0, 40);
    assert.notEqual(tailBlock, 0);
    shadow.add(tailBlock, 40);
    // The last block grows in place: the tail moves.
    assert.equal(shadow.realloc(tailBlock, 5000), tailBlock, 'the tail block grows in place');
    assert.equal(heap.stats().tail, tailBlock - TAGS + heap.blockSize(5000));
    // A block followed by a free block grows into it.
    const a = shadow.malloc(100);
    const b = shadow.malloc(300);
    shadow.malloc(10);
    shadow.free(b);
    assert.equal(shadow.realloc(a, 300), a, 'grows into the free block after it');
    // Shrinking is in place and frees the rest.
    const freeBefore = heap.stats().bytes_free;
    assert.equal(shadow.realloc(a, 20), a, 'shrinks in place');
    assert.ok(heap.stats().bytes_free > freeBefore, 'the rest became free');
    // The last block shrinks and gives memory back to the tail.
    const last = shadow.malloc(1000);
    const tailBefore = heap.stats().tail;
    assert.equal(shadow.realloc(last, 10), last);
    assert.equal(heap.stats().tail, tailBefore - heap.blockSize(1000) + heap.blockSize(10));
    // A block that cannot grow in place moves, keeping its content.
    const stuck = shadow.malloc(64);
    shadow.malloc(8);
    const moved = shadow.realloc(stuck, 4000);
    assert.notEqual(moved, stuck, 'moves when it cannot grow in place');
    // realloc(p, 0) keeps p.
    assert.equal(shadow.realloc(moved, 0), moved);
    shadow.assertAgrees();
    shadow.verifyAll();
  });

  for (const variant of ['max', 'import']) {
    test(`realloc that fails returns NULL and leaves the block untouched: ${variant}, ${build.name}`, () => {
      const { heap, shadow } = setup(build, variant);
      const p = shadow.malloc(1000);
      shadow.malloc(8); // p cannot grow in place
      const before = heap.stats();
      assert.equal(shadow.realloc(p, 8 << 20), 0, 'more than the host allows');
      assert.equal(shadow.realloc(p, 0xfffffff0), 0, 'an impossible size');
      assert.deepEqual(heap.stats(), before);
      shadow.verifyAll();
      shadow.assertAgrees();
      const last = shadow.malloc(100); // the tail block fails to grow too
      assert.equal(shadow.realloc(last, 8 << 20), 0);
      shadow.verifyAll();
      shadow.assertAgrees();
    });
  }

  test(`aligned_alloc and memalign align, lose no padding, and free, ${build.name}`, () => {
    const { heap, shadow } = setup(build);
    for (let align = 1; align <= MAX_ALIGN; align *= 2) {
      for (const n of [0, 1, 24, 1000]) {
        const p = shadow.aligned(align, n);
        assert.notEqual(p, 0, `aligned_alloc(${align}, ${n})`);
        assert.ok(heap.usableSize(p) >= n);
      }
      shadow.malloc(align % 7); // shift the tail
    }
    const q = heap.memalign(4096, 100);
    assert.equal(q % 4096, 0);
    shadow.add(q, 100);
    shadow.assertAgrees();
    // Every padding block is free and merges back: freeing all returns the tail.
    const { heap_base: base } = heap.stats();
    for (const p of [...shadow.starts]) shadow.free(p);
    shadow.assertAgrees();
    assert.equal(heap.stats().tail, base, 'padding was lost');
    for (const align of [0, 3, 24, 2 * MAX_ALIGN, 0x80000000]) {
      assert.equal(heap.alignedAlloc(align, 8), 0, `aligned_alloc(${align})`);
      assert.equal(heap.memalign(align, 8), 0, `memalign(${align})`);
    }
    assert.equal(heap.alignedAlloc(4096, 0xfffff000), 0, 'an impossible size');
    shadow.assertAgrees();
  });

  test(`posix_memalign returns 0, EINVAL or ENOMEM, ${build.name}`, () => {
    const { heap, shadow } = setup(build, 'max');
    const out = shadow.malloc(4, UNWRITTEN); // holds the pointer: not checked
    const slot = () => new Uint32Array(heap.memory.buffer, out, 1);
    slot()[0] = 0xdeadbeef;
    for (const align of [0, 1, 2, 3, 12, 2 * MAX_ALIGN]) {
      assert.equal(heap.posixMemalign(out, align, 8), EINVAL, `align ${align}`);
      assert.equal(slot()[0], 0xdeadbeef, '*out untouched on error');
    }
    assert.equal(heap.posixMemalign(out, 1024, 64 << 20), ENOMEM);
    assert.equal(slot()[0], 0xdeadbeef);
    assert.equal(heap.posixMemalign(out, 1024, 100), 0);
    const p = slot()[0];
    assert.equal(p % 1024, 0);
    shadow.add(p, 100);
    shadow.assertAgrees();
  });

  test(`malloc_usable_size: at least the request, writable to the end, ${build.name}`, () => {
    const { heap, shadow } = setup(build);
    const blocks = [];
    for (let n = 0; n < 200; n += 7) {
      const p = heap.malloc(n);
      const usable = heap.usableSize(p);
      assert.ok(usable >= n && usable < n + grainOf(build.align), `usable ${usable} for ${n}`);
      shadow.add(p, usable); // the model writes every usable byte
      blocks.push(p);
    }
    shadow.assertAgrees();
    shadow.verifyAll();
    assert.equal(heap.usableSize(0), 0);
    if (!CHECKS) return; // invalid pointers are undefined with MALLOC0_CHECKS=0
    assert.equal(heap.usableSize(blocks[3] + 4), 0, 'an interior pointer');
    shadow.free(blocks[3]);
    assert.equal(heap.usableSize(blocks[3]), 0, 'a freed block');
  });

  test(`invalid pointers: realloc returns NULL, usable size 0; the debug build traps, ${build.name}`, { skip: UNDEFINED_WITHOUT_CHECKS }, () => {
    const { heap, shadow } = setup(build);
    const p = shadow.malloc(64);
    shadow.malloc(8);
    const before = heap.stats();
    assert.equal(heap.realloc(p + 4, 100), 0);
    assert.equal(heap.realloc(0xfffffff0, 100), 0);
    assert.equal(heap.usableSize(p + 8), 0);
    assert.deepEqual(heap.stats(), before);
    shadow.verifyAll();
    const debug = loadHeap(build, 'debug');
    const q = debug.malloc(64);
    debug.malloc(8);
    const unreachable = (e) => e instanceof WebAssembly.RuntimeError && /unreachable/.test(e.message);
    assert.throws(() => debug.realloc(q + 4, 100), unreachable);
    assert.match(debug.trapReason(), /^realloc: the pointer is not a block in use/);
    assert.throws(() => debug.usableSize(q + 8), unreachable);
    assert.match(debug.trapReason(), /^malloc_usable_size: the pointer is not a block in use/);
    assert.equal(debug.realloc(0, 0) !== 0, true, 'realloc(NULL, 0) is malloc(0)');
  });
}
