// malloc0 as the allocator of a wasi-libc program: linked in place of
// dlmalloc (no dlmalloc function left in the module), the program prints
// exactly what it prints over dlmalloc.
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
  assert.match(expected, /checksum: \d+/);
  assert.equal(run('malloc0'), expected);
});

test('no dlmalloc code is left in the module built with malloc0', () => {
  const withDlmalloc = functionNames(build('dlmalloc'));
  assert.ok(withDlmalloc.includes('dlmalloc'), 'the name section lists functions');
  const names = functionNames(build('malloc0'));
  assert.ok(names.includes('malloc') && names.includes('realloc'));
  assert.deepEqual(names.filter((n) => /^dl|^internal_(malloc|free)|^sys_alloc|^tmalloc/.test(n)), []);
});
