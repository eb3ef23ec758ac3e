// malloc0 as the allocator of a wasi-libc program: linked in place of
// dlmalloc (no dlmalloc function left in the module), the program prints
// exactly what it prints over dlmalloc.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const build = (name) => fileURLToPath(new URL(`../build/wasi/words-${name}.wasm`, import.meta.url));
const runner = fileURLToPath(new URL('../examples/wasi/run.mjs', import.meta.url));
const run = (name) => execFileSync(process.execPath, ['--no-warnings', runner, build(name)], { encoding: 'utf8' });

// Function names from the module's "name" custom section.
function functionNames(file) {
  const wasm = readFileSync(file);
  let at = 8;
  const leb = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = wasm[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
  };
  const names = [];
  while (at < wasm.length) {
    const id = wasm[at++];
    const end = leb() + at;
    if (id === 0) {
      const nameLength = leb();
      const section = wasm.subarray(at, at + nameLength).toString();
      at += nameLength;
      while (section === 'name' && at < end) {
        const kind = wasm[at++];
        const subEnd = leb() + at;
        if (kind === 1) {
          for (let count = leb(); count > 0; count--) {
            leb();
            const length = leb();
            names.push(wasm.subarray(at, at + length).toString());
            at += length;
          }
        }
        at = subEnd;
      }
    }
    at = end;
  }
  return names;
}

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
