// The examples' pages in a real browser: Debian's Chromium, driven by
// playwright-core, over a local HTTP server on 127.0.0.1. Each test uses
// the page as a person would, checks what it shows, and takes the
// screenshot the README links.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
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
