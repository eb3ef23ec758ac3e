// The examples, run in Node as a user would run them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadToggle } from '../examples/str_toggle/str_toggle.mjs';
import { loadEqualizer, testImage } from '../examples/histogram/histogram.mjs';
import { playLevels } from '../examples/levels/levels.mjs';
import { referenceEqualize } from './lib/equalize.mjs';

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

test('levels: each level ends where it began, in blocks, bytes and memory', async () => {
  const rows = await playLevels(example('levels/levels.wasm'), 4, 25);
  const levels = rows.filter((r) => r.world);
  assert.equal(levels.length, 100);
  for (const r of levels) {
    assert.deepEqual([r.inUse, r.blocks, r.tail, r.memory],
      [levels[0].inUse, levels[0].blocks, levels[0].tail, levels[0].memory], `world ${r.world} level ${r.level}`);
  }
  const end = rows.at(-1);
  assert.equal(end.blocks, 0, 'the session mark releases the worlds');
  assert.equal(end.memory, levels[0].memory);
});
