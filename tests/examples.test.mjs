// The examples, run in Node as a user would run them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadToggle } from '../examples/str_toggle/str_toggle.mjs';
import { loadEqualizer, testImage } from '../examples/histogram/histogram.mjs';
import { playLevels } from '../examples/levels/levels.mjs';
import { referenceEqualize } from './lib/equalize.mjs';
import { dataSectionBytes } from './lib/wasm_binary.mjs';

const example = (path) => new URL(`../examples/${path}`, import.meta.url);

test('str_toggle toggles ASCII letters and leaves the rest', async () => {
  const toggle = await loadToggle(example('str_toggle/str_toggle.wasm'));
  assert.equal(toggle('Hello, World! 123 ÄÖ'), 'hELLO, wORLD! 123 ÄÖ');
  assert.equal(toggle(''), '');
  const long = 'abcXYZ'.repeat(50000); // grows memory: views must be made anew
  assert.equal(toggle(long), 'ABCxyz'.repeat(50000));
});

test('str_toggle: memory stays flat over 1,000 round trips', async () => {
  const toggle = await loadToggle(example('str_toggle/str_toggle.wasm'));
  toggle('warm up');
  const memory = toggle.heap.memoryBytes;
  for (let i = 0; i < 1000; i++) assert.equal(toggle(`round trip ${i}`), `ROUND TRIP ${i}`);
  assert.equal(toggle.heap.memoryBytes, memory);
});

// malloc0's state is zeros but for a few words, so that its records (the
// base scope's 896 bytes of list heads and tails) lie in .bss: a module
// built without wasm-opt, which would drop runs of zeros, carries none of
// them.
const MAX_DATA_BYTES = 64;
test(`str_toggle.wasm carries less than ${MAX_DATA_BYTES} bytes of data`, () => {
  const data = dataSectionBytes(readFileSync(example('str_toggle/str_toggle.wasm')));
  assert.ok(data > 0 && data < MAX_DATA_BYTES, `${data} bytes of data`);
});

test('histogram: C equalizes as the reference does, and memory stays flat over 100 images', async () => {
  const equalize = await loadEqualizer(example('histogram/histogram.wasm'));
  let memory;
  for (let image = 1; image <= 100; image++) {
    const before = testImage(160, 100, image);
    const after = equalize(before);
    if (image <= 3) assert.deepEqual(after, referenceEqualize(before), `image ${image}`);
    memory ??= equalize.heap.memoryBytes;
    assert.equal(equalize.heap.memoryBytes, memory, `memory grew at image ${image}`);
  }
});

test('levels: each level ends where it began, frames stay flat, and the session ends empty', async () => {
  const rows = await playLevels(example('levels/levels.wasm'), 4, 25);
  const levels = rows.filter((r) => r.world);
  assert.equal(levels.length, 100);
  for (const r of levels) {
    assert.deepEqual([r.inUse, r.blocks, r.tail, r.memory],
      [levels[0].inUse, levels[0].blocks, levels[0].tail, levels[0].memory], `world ${r.world} level ${r.level}`);
  }
  // 500 entities and 200 frames a level: the highest tail moves by less
  // than one entity and one frame's scratch over 100 levels.
  const PEAK_SLACK = 16384;
  for (const r of levels) assert.ok(r.peak - levels[0].peak < PEAK_SLACK, `the heap grew by level ${r.level} of world ${r.world}`);
  // The session and world marks sit at the heap start, which needs no mark
  // block; every frame's scope ended.
  assert.equal(levels[0].marks, 1, 'only the level mark has a block');
  const end = rows.at(-1);
  assert.equal(end.blocks, 0, 'the session scope releases the worlds');
  assert.equal(end.marks, 0, 'every scope ended');
  assert.ok(end.tail < levels[0].tail, 'the heap is empty again');
  assert.equal(end.memory, levels[0].memory);
});
