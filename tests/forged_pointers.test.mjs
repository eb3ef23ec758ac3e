// Interior pointers into blocks that hold what programs commonly store:
// free must take none of them for a block (malloc0.h: a forged pointer
// passes only if the program stored a scrambled header before it and a
// second one a block's length further on). Every aligned interior pointer
// of each block is freed; the heap must stay as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BUILDS, UNDEFINED_WITHOUT_CHECKS, loadHeap, random } from './lib/heap.mjs';
import { Shadow } from './lib/shadow.mjs';

const invalidTest = (name, body) => test(name, { skip: UNDEFINED_WITHOUT_CHECKS }, body);

const BLOCK_BYTES = 16384;
const RANDOM_ROUNDS = 32;
const SMALL = 4096;

// Each pattern gives the 32-bit word at index i of a block at address p.
const patterns = {
  zeros: () => () => 0,
  'small numbers': () => (i) => i % SMALL,
  'multiples of 8, as sizes are': () => (i) => (i * 8) % SMALL,
  'small negative numbers': () => (i) => -1 - (i % SMALL),
  'pointers into the block': (p) => (i) => p + 4 * ((i * 7) % (BLOCK_BYTES / 4)),
  ...Object.fromEntries(Array.from({ length: 256 }, (_, b) =>
    [`bytes 0x${b.toString(16)}`, () => () => b * 0x01010101])),
};

function fill(heap, p, word) {
  const words = new Uint32Array(heap.memory.buffer, p, BLOCK_BYTES / 4);
  for (let i = 0; i < words.length; i++) words[i] = word(i);
}

// Frees every aligned pointer inside the block at p; returns how many the
// heap took (its figures changed).
function freeInterior(heap, p) {
  let taken = 0;
  for (let at = p + heap.align; at < p + BLOCK_BYTES; at += heap.align) {
    const before = heap.stats();
    heap.free(at);
    const after = heap.stats();
    if (after.bytes_in_use !== before.bytes_in_use || after.tail !== before.tail) taken++;
  }
  return taken;
}

for (const build of BUILDS) {
  invalidTest(`no interior pointer passes for a block, common data, ${build.name}`, (t) => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    shadow.malloc(100);
    const p = shadow.malloc(BLOCK_BYTES, { fill: false });
    for (let i = 0; i < 8; i++) shadow.malloc(24 * i);
    let tried = 0;
    for (const [name, pattern] of Object.entries(patterns)) {
      fill(heap, p, pattern(p));
      assert.equal(freeInterior(heap, p), 0, `${name}: an interior pointer was taken for a block`);
      tried += BLOCK_BYTES / heap.align - 1;
    }
    assert.ok(heap.check());
    shadow.assertAgrees();
    t.diagnostic(`${tried} interior pointers over ${Object.keys(patterns).length} patterns, none taken`);
  });

  invalidTest(`no interior pointer passes for a block, random words, ${build.name}`, (t) => {
    const heap = loadHeap(build);
    const shadow = new Shadow(heap);
    const rng = random(build.align);
    shadow.malloc(100);
    const p = shadow.malloc(BLOCK_BYTES, { fill: false });
    shadow.malloc(40);
    let taken = 0;
    for (let round = 0; round < RANDOM_ROUNDS; round++) {
      fill(heap, p, () => Math.floor(rng.next() * 2 ** 32));
      taken += freeInterior(heap, p);
    }
    assert.equal(taken, 0);
    assert.ok(heap.check());
    shadow.assertAgrees();
    t.diagnostic(`${RANDOM_ROUNDS * (BLOCK_BYTES / heap.align - 1)} interior pointers, none taken`);
  });
}
