// The newcomer's path: an empty folder with only malloc0.h, malloc0.c and
// the files the README's "Use it in your project" shows; its commands run
// verbatim, in order, without a warning, and print what the README says
// they print. Then the
// README's other build lines (flags, threads, wasi-libc, emscripten), over copies of
// the example sources they name, and its greet.html in Chromium.
// make test sets MALLOC0_TEST_CC to its clang, which runs as "clang" here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { README, fences, read, section } from './lib/readme.mjs';
import { copyInto, scratchFolder } from './lib/scratch.mjs';
import { serve } from '../examples/serve.mjs';

const root = new URL('../', import.meta.url).pathname;
const readme = read(README);
const EXTENSIONS = { c: '.c', js: '.mjs', html: '.html' };
const CHROMIUM = '/usr/bin/chromium';

// The clang make test uses, as the "clang" the README's commands name.
function environment() {
  const bin = scratchFolder('malloc0-bin-');
  const clang = process.env.MALLOC0_TEST_CC;
  if (!clang) return process.env;
  symlinkSync(execFileSync('sh', ['-c', `readlink -f "$(command -v ${clang})"`], { encoding: 'utf8' }).trim(),
    join(bin, 'clang'));
  return { ...process.env, PATH: `${bin}:${process.env.PATH}` };
}
const env = environment();

// Follows a section's blocks: a code block is the file its prose last
// names, a shell block runs, and a plain block is what the last one printed.
function follow(folder, text) {
  let printed = null;
  const ran = [];
  for (const { lang, body, before } of fences(text)) {
    if (EXTENSIONS[lang]) {
      const names = [...before.matchAll(/`([\w.-]+)`/g)].map((m) => m[1])
        .filter((name) => name.endsWith(EXTENSIONS[lang]));
      assert.ok(names.length, `README: no file name for the ${lang} block before:\n${body}`);
      writeFileSync(join(folder, names.at(-1)), body);
    } else if (lang === 'sh') {
      const sources = [...body.matchAll(/examples\/[\w/]+\.c/g)].map((m) => m[0]);
      copyInto(folder, sources);
      // Debian's emcc runs binaryen's wasm-opt, which its package brings to
      // /usr/bin, whatever PATH says (as EMCC in the Makefile).
      const blockEnv = body.includes('emcc ') ? { ...env, PATH: `${env.PATH}:/usr/bin` } : env;
      const run = spawnSync('bash', ['-e', '-c', body], { cwd: folder, env: blockEnv, encoding: 'utf8' });
      assert.equal(run.status, 0, `${body}\nfailed:\n${run.stderr}`);
      assert.equal(run.stderr, '', `${body}\nwarned`);
      printed = run.stdout;
      ran.push(body);
    } else if (lang === '') {
      assert.ok(printed !== null, `README: an output block before any command:\n${body}`);
      assert.equal(printed, body, `the README shows what this printed`);
    }
  }
  return ran;
}

test('the README\'s minimal example, with only the two files, builds, runs and prints what it shows', async () => {
  const folder = scratchFolder('malloc0-newcomer-');
  copyInto(folder, ['malloc0.h', 'malloc0.c']);
  const ran = follow(folder, section(readme, '## Use it in your project'));
  assert.ok(ran.some((b) => b.startsWith('clang ') && b.includes('greet.wasm')), 'the greet build line ran');
  assert.ok(ran.some((b) => b.startsWith('node greet.mjs')), 'the Node script ran');
  assert.ok(ran.filter((b) => b.includes('-o str_toggle.wasm')).length, 'the flag lines ran');

  assert.ok(readme.includes('`greet.html`'), 'the README names its browser page');
  const server = await serve(0, folder);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox'] });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/greet.html`);
    await page.waitForFunction(() => document.getElementById('greeting')?.textContent);
    assert.equal(await page.textContent('#greeting'), 'Hello, browser!');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    server.close();
  }
});

test('the README\'s thread-safe build runs in Node workers and prints what it shows', () => {
  const folder = scratchFolder('malloc0-newcomer-');
  copyInto(folder, ['malloc0.h', 'malloc0.c']);
  const ran = follow(folder, section(readme, '## Threads'));
  assert.ok(ran.some((b) => b.includes('-matomics') && b.includes('--shared-memory')), 'the thread-safe build line ran');
  assert.ok(ran.some((b) => b.startsWith('node threads.mjs')), 'the workers ran');
});

test('the README\'s wasi-libc and emscripten lines build programs that run', () => {
  const folder = scratchFolder('malloc0-newcomer-');
  copyInto(folder, ['malloc0.h', 'malloc0.c']);
  const ran = follow(folder, section(readme, '## wasi-libc and emscripten'));
  assert.equal(ran.length, 2, 'a wasi block and an emscripten block');
  const words = execFileSync('node', ['--no-warnings', join(root, 'examples/wasi/run.mjs'), join(folder, 'words.wasm')],
    { encoding: 'utf8' });
  const over = execFileSync('node', ['--no-warnings', join(root, 'examples/wasi/run.mjs'),
    join(root, 'build/wasi/words-malloc0.wasm')], { encoding: 'utf8' });
  assert.equal(words, over, 'words.wasm prints what make wasi\'s build prints');
  // scenes.js runs main(). Debian's emscripten loads its wasm with fetch
  // wherever fetch exists, which in Node 20 takes no file path.
  const scenes = execFileSync('node', ['--no-experimental-fetch', join(folder, 'scenes.js')],
    { cwd: folder, encoding: 'utf8' });
  assert.match(scenes, /^list: 10000 nodes, sum \d+\ngrowth: 64 blocks of 1 MiB, checksum \d+\n$/, "main ran, past the initial memory");
});
