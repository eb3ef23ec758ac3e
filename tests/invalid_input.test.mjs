// Every invalid input malloc0.h lists: in the release build it is ignored
// (figures unchanged, heap consistent, live blocks intact); in the debug
// build (MALLOC0_DEBUG) it traps. free(NULL), free_to_mark of a mark beyond
// the tail and free_pop_mark(NULL) do nothing in both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BUILDS, BUILDS64, CHECKS, UNDEFINED_WITHOUT_CHECKS, loadHeap, wasmPath } from './lib/heap.mjs';
import { loadWasm } from '../examples/lib/malloc0.mjs';
import { Shadow } from './lib/shadow.mjs';

const invalidTest = (name, body) => test(name, { skip: UNDEFINED_WITHOUT_CHECKS }, body);

const TAG = 4;
const UNWRITTEN = { fill: false }; // leaves old tags in the block, as a program may

// The pointers of blocks that were released, less any that a new live block
// happens to start at again (freeing those is valid).
function released(s, blocks) {
  const stale = blocks.filter((p) => !s.blocks.has(p));
  assert.ok(stale.length > 0, 'the case must leave a released pointer');
  return stale;
}

function freeEach(s, pointers) {
  return () => { for (const p of pointers) s.heap.free(p); };
}

// Each case prepares a heap and returns the invalid call.
const invalidFrees = {
  'interior pointer': (s) => { const p = s.malloc(64); return () => s.heap.free(p + 16); },
  'misaligned pointer': (s) => { const p = s.malloc(64); return () => s.heap.free(p + 1); },
  'pointer to the header': (s) => { const p = s.malloc(64); return () => s.heap.free(p - TAG); },
  'pointer just before a block': (s) => { s.malloc(8); const p = s.malloc(64); return () => s.heap.free(p - 8); },
  'pointer near the top of the address space': (s) => { s.malloc(8); return () => s.heap.free(0xfffffff0); },
  'last word of the address space': (s) => { s.malloc(8); return () => s.heap.free(0xfffffffc); },
  'address 4': (s) => { s.malloc(8); return () => s.heap.free(4); },
  'static data below the heap': (s) => { s.malloc(8); const base = s.heap.stats().heap_base; return () => s.heap.free(base - 64); },
  'the tail': (s) => { s.malloc(8); const { tail } = s.heap.stats(); return () => s.heap.free(tail + TAG); },
  'beyond the tail, inside memory': (s) => { s.malloc(8); const { memory_size } = s.heap.stats(); return () => s.heap.free(memory_size - 64); },
  'double free of the middle block': (s) => {
    s.malloc(24); const p = s.malloc(24); s.malloc(24); s.free(p); return () => s.heap.free(p);
  },
  'double free of the tail block': (s) => { s.malloc(24); const p = s.malloc(24); s.free(p); return () => s.heap.free(p); },
  'double free after merging with the block before': (s) => {
    const a = s.malloc(24); const b = s.malloc(24); s.malloc(24); s.free(b); s.free(a);
    return () => s.heap.free(b);
  },
  'double free after merging with the block after': (s) => {
    const a = s.malloc(24); const b = s.malloc(24); s.malloc(24); s.free(a); s.free(b);
    return () => s.heap.free(b);
  },
  'double free of a block merged on both sides': (s) => {
    const a = s.malloc(24); const b = s.malloc(24); const c = s.malloc(24); s.malloc(24);
    s.free(a); s.free(c); s.free(b);
    return freeEach(s, [b, c]);
  },
  'block merged into the tail, memory reused': (s) => {
    s.malloc(24); const b = s.malloc(24); const c = s.malloc(40); s.free(b); s.free(c);
    s.malloc(200, UNWRITTEN);
    return freeEach(s, released(s, [b, c]));
  },
  'block freed at the tail, then grown over by realloc of the block before': (s) => {
    const a = s.malloc(24, UNWRITTEN); const b = s.malloc(24); s.free(b);
    assert.equal(s.realloc(a, 200), a, 'grows in place over the tail');
    return () => s.heap.free(b);
  },
  'blocks freed at the tail one by one, memory reused': (s) => {
    s.malloc(8); const a = s.malloc(24); const b = s.malloc(40); const c = s.malloc(24);
    s.free(c); s.free(b); s.free(a); // the tail moves back past each header
    s.malloc(300, UNWRITTEN);
    return freeEach(s, released(s, [a, b, c]));
  },
  'freed block reused by a larger block': (s) => {
    const a = s.malloc(24); const b = s.malloc(24); s.malloc(24); s.free(b); s.free(a);
    s.malloc(40, UNWRITTEN);
    return () => s.heap.free(b);
  },
  'block released by free_all, memory not reused': (s) => {
    s.malloc(16); const p = s.malloc(100); s.releaseAfter(0); s.heap.freeAll();
    return () => s.heap.free(p);
  },
  'block released by free_all, memory reused by one larger block': (s) => {
    const blocks = []; for (let i = 0; i < 10; i++) blocks.push(s.malloc(40));
    s.releaseAfter(0); s.heap.freeAll(); s.malloc(1000, UNWRITTEN);
    return freeEach(s, released(s, blocks));
  },
  'block released by free_all, memory reused by blocks of other sizes': (s) => {
    const blocks = []; for (let i = 0; i < 10; i++) blocks.push(s.malloc(40));
    s.releaseAfter(0); s.heap.freeAll();
    for (let i = 0; i < 10; i++) s.malloc(20, UNWRITTEN);
    return freeEach(s, released(s, blocks));
  },
  'block released by free_to_mark, memory reused': (s) => {
    s.malloc(16); const point = s.now(); const mark = s.heap.getMark();
    const blocks = []; for (let i = 0; i < 10; i++) blocks.push(s.malloc(40));
    s.releaseAfter(point); s.heap.freeToMark(mark); s.malloc(700, UNWRITTEN);
    return freeEach(s, released(s, blocks));
  },
  'released twice over, memory reused': (s) => {
    const outer = s.heap.getMark();
    const first = []; for (let i = 0; i < 8; i++) first.push(s.malloc(24));
    s.releaseAfter(0); s.heap.freeToMark(outer);
    s.malloc(8); const point = s.now(); const inner = s.heap.getMark();
    for (let i = 0; i < 4; i++) s.malloc(200);
    s.releaseAfter(point); s.heap.freeToMark(inner);
    s.malloc(2000, UNWRITTEN);
    return freeEach(s, released(s, first));
  },
  'the payload of a mark block': (s) => {
    s.malloc(8); const mark = s.heap.getMark(); s.malloc(8);
    return freeEach(s, [mark - TAG, mark - 2 * TAG, mark - 3 * TAG, mark - 4 * TAG]);
  },
  'pointer to a header after a free block': (s) => {
    // The free block's footer lies before p's header: a footer must never
    // pass for a header.
    const a = s.malloc(24); const p = s.malloc(16); s.malloc(24); s.free(a);
    return freeEach(s, [p - TAG, p + 16]);
  },
};

// Each case prepares a heap and returns a mark that is not live, for both
// free_to_mark and free_pop_mark.
const invalidMarks = {
  'made-up address inside a block': (s) => { const p = s.malloc(64); s.malloc(8); return p + 16; },
  'a block pointer': (s) => { const p = s.malloc(64); s.malloc(8); return p; },
  'a block boundary that is not a mark': (s) => { s.malloc(8); const p = s.malloc(64); s.malloc(8); return p - TAG; },
  'misaligned address': (s) => { s.malloc(64); const m = s.heap.getMark(); s.malloc(8); return m + 1; },
  'address 4': (s) => { s.malloc(8); return 4; },
  'below the base mark': (s) => {
    s.malloc(8); const m = s.heap.getMark(); s.malloc(8); s.heap.freeAllMark(); s.malloc(8);
    return m;
  },
  'stale: the heap shrank below it and grew over it again': (s) => {
    s.malloc(8); const point = s.now(); const outer = s.heap.getMark();
    s.malloc(40); const stale = s.heap.getMark(); s.malloc(40);
    s.releaseAfter(point); s.heap.freeToMark(outer);
    while (s.heap.stats().tail <= stale) s.malloc(500, UNWRITTEN);
    return stale;
  },
  'stale after free_all, grown over by blocks of other sizes': (s) => {
    s.malloc(24); const stale = s.heap.getMark(); s.malloc(40);
    s.releaseAfter(0); s.heap.freeAll(); while (s.heap.stats().tail <= stale) s.malloc(12, UNWRITTEN);
    return stale;
  },
  'popped, and the heap grew over it again': (s) => {
    s.malloc(8); const point = s.now(); const popped = s.heap.getMark();
    s.malloc(40); s.releaseAfter(point); s.heap.popMark(popped);
    while (s.heap.stats().tail <= popped) s.malloc(24, UNWRITTEN);
    return popped;
  },
  'ended by popping a mark below it': (s) => {
    s.malloc(8); const point = s.now(); const outer = s.heap.getMark();
    s.malloc(40); const inner = s.heap.getMark();
    s.releaseAfter(point); s.heap.popMark(outer);
    while (s.heap.stats().tail <= inner) s.malloc(24, UNWRITTEN);
    return inner;
  },
};

// Marks that only free_pop_mark rejects: free_to_mark does nothing for a
// mark beyond the tail, as all after it is free already.
const invalidPops = {
  'already popped': (s) => {
    s.malloc(8); const point = s.now(); const mark = s.heap.getMark();
    s.malloc(40); s.releaseAfter(point); s.heap.popMark(mark);
    return mark;
  },
  'beyond the tail': (s) => { s.malloc(8); return s.heap.stats().tail + 64; },
  'near the top of memory': () => 0xfffffff0,
};

function prepare(build, variant, setup) {
  const heap = loadHeap(build, variant);
  const shadow = new Shadow(heap);
  const call = setup(shadow);
  return { heap, shadow, call };
}

function assertIgnored(build, setup) {
  const { heap, shadow, call } = prepare(build, 'plain', setup);
  const before = heap.stats();
  call();
  assert.deepEqual(heap.stats(), before, 'the heap changed');
  shadow.verifyAll();
  shadow.assertAgrees();
  // The heap still works: allocate and free around the ignored call.
  const p = shadow.malloc(100);
  assert.notEqual(p, 0);
  shadow.free(p);
  shadow.assertAgrees();
}

// The debug build traps, and says why: the function, then the reason.
const REASONS = { free: 'not a block in use', free_to_mark: 'not live', free_pop_mark: 'not live' };
function assertTraps(build, setup, fn) {
  const { heap, call } = prepare(build, 'debug', setup);
  assert.equal(heap.trapReason(), null, 'no reason before a trap');
  assert.throws(call, (e) => e instanceof WebAssembly.RuntimeError && /unreachable/.test(e.message));
  const reason = heap.trapReason();
  assert.ok(reason.startsWith(`${fn}: `) && reason.includes(REASONS[fn]), reason);
  assert.equal(heap.trapReason(), null, 'each reason is given once');
}

for (const build of [...BUILDS, ...BUILDS64]) {
  for (const [name, setup] of Object.entries(invalidFrees)) {
    invalidTest(`free: ${name} is ignored, ${build.name}`, () => assertIgnored(build, setup));
    invalidTest(`free: ${name} traps in the debug build, ${build.name}`, () => assertTraps(build, setup, 'free'));
  }
  const markCases = [
    ...Object.entries(invalidMarks).flatMap(([name, setup]) => [
      ['free_to_mark', name, (s) => { const m = setup(s); return () => s.heap.freeToMark(m); }],
      ['free_pop_mark', name, (s) => { const m = setup(s); return () => s.heap.popMark(m); }]]),
    ...Object.entries(invalidPops).map(([name, setup]) =>
      ['free_pop_mark', name, (s) => { const m = setup(s); return () => s.heap.popMark(m); }]),
  ];
  for (const [fn, name, setup] of markCases) {
    invalidTest(`${fn}: ${name} is ignored, ${build.name}`, () => assertIgnored(build, setup));
    invalidTest(`${fn}: ${name} traps in the debug build, ${build.name}`, () => assertTraps(build, setup, fn));
  }

  for (const variant of CHECKS ? ['plain', 'debug'] : ['plain']) {
    test(`free(NULL), free_pop_mark(NULL) and marks at or beyond the tail do nothing, ${variant}, ${build.name}`, () => {
      const heap = loadHeap(build, variant);
      const shadow = new Shadow(heap);
      shadow.malloc(10);
      const mark = heap.getMark();
      shadow.malloc(20);
      heap.freeToMark(mark);
      shadow.releaseAfter(1);
      const before = heap.stats();
      heap.free(0);
      heap.freeToMark(mark); // the tail is at the mark
      heap.freeToMark(0xfffffff0);
      heap.freeToMark(before.tail + 64);
      heap.popMark(0);
      assert.deepEqual(heap.stats(), before);
      shadow.assertAgrees();
      shadow.verifyAll();
    });
  }

  test(`malloc of an unrepresentable size returns NULL, ${build.name}`, () => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    shadow.malloc(100);
    const before = heap.stats();
    // The largest block ends 4 bytes below 4 GiB (its header takes 4 more
    // bytes than its payload, and a tag lies beyond it): one byte more is
    // too large.
    const tooLarge = [0xffffffff, 0xfffffffc, 0xfffffff8, 0xfffffff0, 0xffffffe8,
      0xffffffff - before.tail, 0x100000000 - before.tail - 7, 0x100000000 - before.tail];
    for (const n of tooLarge) assert.equal(heap.malloc(n), 0, `malloc(${n})`);
    assert.deepEqual(heap.stats(), before);
    shadow.assertAgrees();
    shadow.verifyAll();
  });
}

invalidTest('the JS helper turns a debug build\'s trap into an error that says why', async () => {
  const [build] = BUILDS;
  const heap = await loadWasm(readFileSync(wasmPath(build, 'debug')));
  const p = heap.malloc(64);
  heap.malloc(64);
  assert.throws(() => heap.free(p + 8), (e) => e.cause instanceof WebAssembly.RuntimeError &&
    e.message.startsWith('malloc0 trapped in free(): free: the pointer is not a block in use'));
  assert.throws(() => heap.exports.free_to_mark(p), /^Error: malloc0 trapped in free_to_mark\(\): free_to_mark: the mark is not live/);
  const release = await loadWasm(readFileSync(wasmPath(build, 'plain')));
  assert.equal(release.exports.free, release.exports.free, 'release builds: the exports as they are');
});

for (const build of BUILDS) {
  test(`malloc0_stats and malloc0_check report a heap whose tags a program overwrote, ${build.name}`, () => {
    const heap = loadHeap(build);
    const blocks = [64, 100, 64].map((n) => heap.malloc(n));
    heap.free(blocks[1]);
    assert.equal(heap.exports.test_stats_verdict(), 1);
    assert.ok(heap.check());
    // An overflow from the first block: the second one's header, all ones.
    new DataView(heap.memory.buffer).setUint32(blocks[1] - TAG, 0xffffffff, true);
    assert.equal(heap.exports.test_stats_verdict(), 0, 'malloc0_stats says the heap is broken');
    assert.ok(!heap.check());
  });
}
