// The README's figures: each table of figures is a copy of one that make
// bench writes into bench/RESULTS.md (which generated both), and make
// demo prints what the README shows (which make bench writes there too).
// And a figure of malloc0.h's that make size measures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { README, RESULTS, copiedTables, demoOutput, demoPrints, headerProse, read, resultsTable } from './lib/readme.mjs';

const readme = read(README);
const results = read(RESULTS);

test('every table the README copies is the one in bench/RESULTS.md', () => {
  const copies = copiedTables(readme);
  assert.ok(copies.length >= 4, 'the summary, sizes, lines and guarantee costs');
  for (const { key, table } of copies) assert.equal(table, resultsTable(results, key), `the table "${key}"`);
});

test('every README table of figures is a copy', () => {
  const copied = new Set(copiedTables(readme).map((c) => c.start));
  const lines = readme.split('\n');
  const FIGURE = /^[\d,.]+( \/ [\d,.]+)?$/;
  lines.forEach((line, i) => {
    if (!line.startsWith('|') || lines[i - 1].startsWith('|')) return;
    let end = i;
    while (lines[end]?.startsWith('|')) end++;
    const cells = lines.slice(i + 2, end).flatMap((row) => row.split('|').map((c) => c.trim()));
    if (cells.some((c) => FIGURE.test(c))) assert.ok(copied.has(i), `README line ${i + 1}: a table of figures not from bench/RESULTS.md`);
  });
});

// The module's size is the figure of the clang that bench/RESULTS.md names;
// built by another one (make CC=clang-19 test), only the text must match.
const benchClang = /clang (\d[\d.]*)/.exec(results)[1];
const buildClang = /clang version (\d[\d.]*)/.exec(read(new URL('../build/compiler.txt', import.meta.url)))[1];

test('make demo prints what the README shows', () => {
  const printed = demoPrints();
  const figures = (text) => (buildClang === benchClang ? text : text.replace(/\d+ bytes/, 'N bytes'));
  assert.equal(figures(printed), figures(demoOutput(readme)), `built by clang ${buildClang}; figures of clang ${benchClang}`);
});

// malloc0.h prices the thread caches in code: the range it gives, to the
// hundred bytes, spans what the thread-safe rows of make size's table by
// optimization level (bench/RESULTS.md) lose with MALLOC0_THREAD_CACHES=0.
test('malloc0.h gives the code the thread caches cost, as bench/RESULTS.md measured it', () => {
  const rows = new Map(resultsTable(results, 'code-section bytes by optimization level').split('\n').slice(2)
    .map((row) => row.split('|').map((cell) => cell.trim()))
    .map(([, name, ...sizes]) => [name, sizes.filter(Boolean).map(Number)]));
  const saved = ['malloc+free', 'seed six', 'whole API'].flatMap((set) => {
    const cached = rows.get(`default, thread-safe (-matomics): ${set}`);
    const locked = rows.get(`default, thread-safe, MALLOC0_THREAD_CACHES=0: ${set}`);
    assert.ok(cached && locked, `the table's thread-safe rows of ${set}`);
    return cached.map((bytes, level) => bytes - locked[level]);
  });
  const said = /for ([\d,]+) to ([\d,]+) bytes less code/.exec(headerProse());
  assert.ok(said, 'malloc0.h gives the code MALLOC0_THREAD_CACHES=0 saves');
  const bytes = (text) => Number(text.replace(/,/g, ''));
  assert.deepEqual([bytes(said[1]), bytes(said[2])],
    [Math.floor(Math.min(...saved) / 100) * 100, Math.ceil(Math.max(...saved) / 100) * 100], `saved: ${saved.join(', ')}`);
});
