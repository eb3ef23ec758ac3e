// The patches that make size-costs applies to price each guarantee
// (bench/guarantees.mjs) must still find their text in malloc0.c, once
// each: else the priced copy is not the one the row names, and make bench
// fails long after the change that broke it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GUARANTEES, without } from '../bench/guarantees.mjs';

const source = readFileSync(new URL('../malloc0.c', import.meta.url), 'utf8');

for (const [name, patches] of Object.entries(GUARANTEES)) {
  test(`the patches for "${name}" each name one place in malloc0.c`, () => {
    assert.notEqual(without(source, patches), source);
  });
}
