// malloc0 as the allocator of a wasi-libc program: linked in place of
// dlmalloc (no dlmalloc function left in the module), the program prints
// exactly what it prints over dlmalloc.  The program calls setlocale,
// newlocale, freelocale, atexit and strdup, whose wasi-libc code allocates
// through __libc_malloc, __libc_calloc and __libc_free: those must be
// malloc0's too, or the link fails with "duplicate symbol: malloc".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { functionNames as wasmFunctionNames } from './lib/wasm_binary.mjs';

const build = (name) => fileURLToPath(new URL(`../build/wasi/words-${name}.wasm`, import.meta.url));
const runner = fileURLToPath(new URL('../examples/wasi/run.mjs', import.meta.url));
const run = (name) => execFileSync(process.execPath, ['--no-warnings', runner, build(name)], { encoding: 'utf8' });

const functionNames = (file) => wasmFunctionNames(readFileSync(file));

test('the wasi program prints the same over malloc0 as over dlmalloc', () => {
  const expected = run('dlmalloc');
  assert.match(expected, /^locale: C\.UTF-8$/m);
  assert.match(expected, /checksum: \d+/);
  assert.match(expected, /goodbye from atexit\n$/);
  assert.equal(run('malloc0'), expected);
});

test('no dlmalloc code is left in the module built with malloc0', () => {
  const withDlmalloc = functionNames(build('dlmalloc'));
  assert.ok(withDlmalloc.includes('dlmalloc'), 'the name section lists functions');
  const names = functionNames(build('malloc0'));
  for (const name of ['malloc', 'realloc', '__libc_malloc', '__libc_calloc', '__libc_free', 'setlocale', 'atexit']) {
    assert.ok(names.includes(name), `${name} is in the module`);
  }
  assert.deepEqual(names.filter((n) => /^dl|^internal_(malloc|free)|^sys_alloc|^tmalloc/.test(n)), []);
});
