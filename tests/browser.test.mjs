// The examples' pages in a real browser: Debian's Chromium, driven by
// playwright-core, over a local HTTP server on 127.0.0.1. Each test uses
// the page as a person would, checks what it shows, and takes the
// screenshot the README links.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from '../examples/serve.mjs';
import { referenceEqualize } from './lib/equalize.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const screenshot = (name) => fileURLToPath(new URL(`../examples/${name}/screenshot.png`, import.meta.url));

let server;
let browser;
let origin;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (make test does it as root)`);
  server = await serve(0);
  origin = `http://127.0.0.1:${server.address().port}`;
  // playwright gives the browser a new, empty profile of its own.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function open(path) {
  const page = await browser.newPage({ viewport: { width: 900, height: 560 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${origin}/${path}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10000 });
  return { page, errors };
}

test('str_toggle page: typing toggles the text, memory flat over 1,000 round trips', async () => {
  const { page, errors } = await open('str_toggle/');
  assert.equal(await page.inputValue('#input'), 'Hello, WebAssembly!');
  assert.equal(await page.textContent('#output'), 'hELLO, wEBaSSEMBLY!');
  await page.fill('#input', '');
  await page.type('#input', 'malloc0 in Chromium');
  assert.equal(await page.textContent('#output'), 'MALLOC0 IN cHROMIUM');
  const memory = Number(await page.textContent('#memory'));
  const wrong = await page.evaluate(() => {
    const input = document.getElementById('input');
    const mismatches = [];
    for (let i = 0; i < 1000; i++) {
      input.value = `Round trip ${i}`;
      input.dispatchEvent(new Event('input'));
      if (document.getElementById('output').value !== `rOUND TRIP ${i}`) mismatches.push(i);
    }
    return mismatches;
  });
  assert.deepEqual(wrong, []);
  assert.equal(Number(await page.textContent('#memory')), memory, 'memory grew');
  await page.fill('#input', 'Hello, WebAssembly!');
  await page.screenshot({ path: screenshot('str_toggle') });
  assert.deepEqual(errors, []);
});

test('histogram page: the pixels change as equalization says, memory flat over 100 images', async () => {
  const { page, errors } = await open('histogram/');
  const pixels = (id) => page.evaluate((canvasId) => {
    const canvas = document.getElementById(canvasId);
    return Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data);
  }, id);
  const shown = new Uint8ClampedArray(await pixels('before'));
  assert.deepEqual(new Uint8ClampedArray(await pixels('after')), referenceEqualize(shown));
  const sizes = await page.evaluate(() => Array.from({ length: 100 }, (_, i) => window.histogramDemo.show(i + 2)));
  assert.deepEqual(new Set(sizes).size, 1, `memory changed: ${[...new Set(sizes)]}`);
  await page.evaluate(() => window.histogramDemo.show(1));
  await page.screenshot({ path: screenshot('histogram') });
  assert.deepEqual(errors, []);
});

test('emscripten page: every build prints the same in Chromium, after memory grows', async () => {
  const { page, errors } = await open('emscripten/');
  const results = await page.evaluate(() => window.scenesResults);
  const names = Object.keys(results);
  assert.deepEqual(names, ['dlmalloc', 'emmalloc', 'malloc0', 'malloc0-tiny']);
  assert.ok(results.dlmalloc.lines.some((l) => l.startsWith('growth: 64 blocks of 1 MiB')));
  for (const name of names) {
    assert.deepEqual(results[name].lines, results.dlmalloc.lines, name);
    assert.ok(results[name].memory > 16 << 20, `${name}: memory grew`);
  }
  assert.equal(await page.locator('section').count(), names.length);
  assert.deepEqual(errors, []);
});

// memory64 past 4 GiB: Chromium grows a 64-bit memory beyond what Node 20
// allows.  Blocks of 1 GiB (the 64-bit build takes blocks below 2 GiB) fill
// 5 GiB; each is stamped at both ends and in its middle, and every stamp is
// checked after all were written, after frees, and after allocating again.
for (const profile of ['default', 'tiny']) {
  test(`wasm64 in Chromium: blocks above the 4 GiB line keep their contents, ${profile} profile`, async () => {
    const module = readFileSync(fileURLToPath(new URL(`../build/test64/${profile}-a16-huge.wasm`, import.meta.url)));
    const page = await browser.newPage();
    const result = await page.evaluate(async (base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const { instance: { exports } } = await WebAssembly.instantiate(bytes, {});
      const GIB = 2 ** 30;
      const STAMP = 4096;
      const view = () => new Uint8Array(exports.memory.buffer);
      const spots = (p) => [p, p + GIB / 2, p + GIB - STAMP];
      const stamp = (p, value) => { for (const at of spots(p)) view().fill(value, at, at + STAMP); };
      const intact = (p, value) => spots(p).every((at) => view().subarray(at, at + STAMP).every((b) => b === value));
      const blocks = [];
      for (let i = 0; i < 5; i++) {
        const p = Number(exports.malloc(BigInt(GIB)));
        if (!p) return { error: `malloc(1 GiB) number ${i + 1} returned NULL` };
        blocks.push(p);
        stamp(p, 1 + i);
      }
      const above = blocks.filter((p) => p > 2 ** 32).length;
      const allIntact = () => blocks.every((p, i) => intact(p, 1 + i));
      const first = { above, intact: allIntact(), check: exports.malloc0_check() };
      exports.free(BigInt(blocks[1])); // a hole below the 4 GiB line
      const small = Number(exports.malloc(100n));
      const afterFree = { intact: [0, 2, 3, 4].every((i) => intact(blocks[i], 1 + i)), check: exports.malloc0_check() };
      exports.free(BigInt(small));
      exports.free(BigInt(blocks[4]));
      const again = Number(exports.malloc(BigInt(GIB)));
      stamp(again, 9);
      return {
        blocks, first, afterFree, again,
        final: { intact: [0, 2, 3].every((i) => intact(blocks[i], 1 + i)) && intact(again, 9), check: exports.malloc0_check() },
        memory: exports.memory.buffer.byteLength,
      };
    }, module.toString('base64'));
    await page.close();
    assert.equal(result.error, undefined, result.error);
    assert.ok(result.first.above >= 1, `no block above 4 GiB: ${result.blocks}`);
    assert.ok(result.memory > 2 ** 32 + 2 ** 30, `memory ${result.memory}`);
    assert.deepEqual(result.first, { above: result.first.above, intact: true, check: 1 });
    assert.deepEqual(result.afterFree, { intact: true, check: 1 });
    // The default profile reuses the hole below the line; the tiny one, the tail.
    assert.equal(result.again, result.blocks[profile === 'default' ? 1 : 4], 'freed memory is allocated again');
    assert.deepEqual(result.final, { intact: true, check: 1 });
  });
}

// The thread-safe build in Chromium: a page served over the repository with
// the cross-origin isolation headers that SharedArrayBuffer needs
// (tests/lib/threads.html) runs 10^6 operations per thread over one heap in
// shared memory, as tests/threads.test.mjs does in Node.  With the page's own
// thread among them, every thread spins (a browser's main thread may not
// wait); with workers only, they wait.
const ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
const THREAD_RUNS = [
  { threads: 2, mainRuns: true },
  { threads: 4, mainRuns: true },
  { threads: 8, mainRuns: true },
  { threads: 4, mainRuns: false },
];
for (const { threads, mainRuns } of THREAD_RUNS) {
  const who = mainRuns ? 'the page\'s thread and workers, spinning' : 'workers only, waiting';
  test(`threads in Chromium: ${threads} threads (${who}), 10^6 operations each, no block overlaps or changes`, async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const isolated = await serve(0, root, ISOLATED);
    const page = await browser.newPage();
    try {
      const errors = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`http://127.0.0.1:${isolated.address().port}/tests/lib/threads.html`);
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 10000 });
      assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the page is cross-origin isolated');
      const live = await page.evaluate((options) => window.runThreads(options),
        { build: 'default', threads, operations: 1000000, seed: 500 + threads, mainRuns });
      assert.ok(live > 0, 'blocks live when the threads joined');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
      isolated.close();
    }
  });
}
