// make bench: every workload against every allocator, in one run.
// ns per malloc+free pair (median of REPEATS, allocators interleaved inside
// each repetition so that machine noise hits all alike), peak memory, and
// code size. Prints markdown, writes bench/results.tsv and, with gnuplot,
// bench/results.svg. QUICK=1 is a smoke run that asserts no timing and
// writes nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { codeSectionBytes } from '../tests/lib/wasm_binary.mjs';
import { README, RESULTS, demoPrints, read, withCurrentTables, withDemoOutput } from '../tests/lib/readme.mjs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

const QUICK = process.env.QUICK === '1';
const REPEATS = QUICK ? 1 : Number(process.env.REPEATS ?? 7);
const SCALE = QUICK ? 0.02 : 1;
const PAGE = 65536;
const FRAMES = 3000; // frame_loop: memory at frame 500 against frame 3,000
const dir = new URL('../build/bench/', import.meta.url);
const here = new URL('./', import.meta.url);

// malloc0-Oz: the default profile compiled at -Oz; malloc0-fast: built
// with MALLOC0_FAST=1; malloc0-threadsafe: built for threads
// (MALLOC0_THREADS: -matomics, shared memory), run on one thread;
// malloc0-nochecks: built with MALLOC0_CHECKS=0, without the guarantees
// against invalid input (what they cost in time).
// The em- modules: the same driver built by emcc over malloc0, emmalloc and
// emscripten's dlmalloc (standalone wasm).
// original: the first malloc0 (bench/original.c), on the LIFO workload only:
// it reuses no memory below the tail and has no realloc.
const ALLOCATORS = ['malloc0', 'malloc0-Oz', 'malloc0-fast', 'malloc0-tiny', 'malloc0-threadsafe', 'malloc0-nochecks', 'dlmalloc', 'em-malloc0', 'emmalloc', 'em-dlmalloc', 'original', 'bump',
  'floor'];
const files = { malloc0: 'default', 'malloc0-Oz': 'oz', 'malloc0-fast': 'fast', 'malloc0-tiny': 'tiny', 'malloc0-threadsafe': 'threadsafe',
  'malloc0-nochecks': 'nochecks', dlmalloc: 'dlmalloc', 'em-malloc0': 'em-malloc0',
  emmalloc: 'em-emmalloc', 'em-dlmalloc': 'em-dlmalloc', original: 'original', bump: 'bump', floor: 'floor' };
const ONLY = { original: ['lifo'] };
// Workloads shaped like real programs (bench/driver.c), most with megabyte
// buffers: bump, which never frees, would need gigabytes; the floor runs
// them for the loop's own cost.  The tiny profile reuses memory only at the
// tail and may run out of memory on them (shown as OOM).
const REAL = ['large_buffers', 'large_buffers_tenth', 'zeroed_buffers', 'mixed_lifetimes', 'phases', 'realloc_growth', 'bulk_load',
  'bulk_load_js_heap'];
const SKIP = { bump: REAL };
// What the em- modules import: a hook for JS views, which this driver has none of.
const IMPORTS = { env: { emscripten_notify_memory_growth() {} } };
const modules = Object.fromEntries(ALLOCATORS.map((a) =>
  [a, new WebAssembly.Module(readFileSync(new URL(`${files[a]}.wasm`, dir)))]));

// name -> [export, arguments]; pairs scale with SCALE.
const pairs = (n) => Math.max(1000, Math.round(n * SCALE));
const WORKLOADS = {
  lifo: ['lifo', [pairs(2e6)]],
  fifo: ['fifo', [pairs(1e6)]],
  random_free: ['random_free', [pairs(1e6)]],
  steady: ['steady', [pairs(2e6)]],
  churn: ['churn', [pairs(1e6)]],
  string_builder: ['string_builder', [pairs(2e6)]],
  marks: ['marks', [pairs(2e6)]],
  frame_loop: ['frame_loop', [FRAMES]],
  // 20 buffers of 5-25 MiB, 2,000 replacements; and at a tenth of the sizes.
  large_buffers: ['large_buffers', [QUICK ? 20 : 2000, 20, 5 << 10, 25 << 10]],
  large_buffers_tenth: ['large_buffers', [QUICK ? 20 : 2000, 20, 512, 2560]],
  // The tenth's sizes made by calloc: reused memory must be zeroed.
  zeroed_buffers: ['zeroed_buffers', [QUICK ? 20 : 2000, 20, 512, 2560]],
  mixed_lifetimes: ['mixed_lifetimes', [pairs(1e6)]],
  phases: ['phases', [pairs(1e6)]],
  realloc_growth: ['realloc_growth', [pairs(1e6)]],
  // Half a million records made into growing memory, then freed.
  bulk_load: ['bulk_load', [pairs(5e5)]],
  // The same while JS holds a heap of its own, as a web page does (below).
  bulk_load_js_heap: ['bulk_load', [pairs(5e5)]],
  ...scaling('replace_random', pairs(1e6)),
  ...scaling('stacks_on_top', pairs(4e6)),
  ...scaling('hole_then_tail', pairs(4e6)),
};

// BENCH_ONLY=a,b runs only those workloads (a quicker look while working).
if (process.env.BENCH_ONLY) {
  const only = process.env.BENCH_ONLY.split(',');
  for (const w of Object.keys(WORKLOADS)) if (!only.includes(w)) delete WORKLOADS[w];
}

// One workload per live count, 10^3 to 10^6, prepared before the timer:
// O(1) means flat columns.
function scaling(name, n) {
  return Object.fromEntries([1e3, 1e4, 1e5, 1e6].map((live) =>
    [`${name}@${live.toExponential().replace('+', '')}`, [name, [n], live]]));
}

// The JS heap that bulk_load_js_heap runs beside: two million small linked
// objects, about 120 MiB.  V8 may collect the whole JS heap when an
// unshared memory grows, so there each memory.grow takes milliseconds, and
// a load costs what its grows cost.
const JS_HEAP_OBJECTS = QUICK ? 1e4 : 2e6;
const BESIDE_JS_HEAP = ['bulk_load_js_heap'];
let jsHeap = null;
const jsObjects = (count) => {
  let last = null;
  for (let i = 0; i < count; i++) last = { i, next: last };
  return last;
};

// How long a run waits for the collector to give the runs before it back:
// a fixed pause, and more for each MiB the last run's memory held (bump's
// random_free grows a gigabyte, whose release takes longer).
const GC_SETTLE_MS = 20;
const GC_SETTLE_MIB_PER_MS = 16;
let lastMemoryBytes = 0;

async function runOnce(allocator, workload) {
  const [name, args, live] = WORKLOADS[workload];
  if (ONLY[allocator] && !ONLY[allocator].includes(workload)) return null;
  if (SKIP[allocator]?.includes(workload)) return null;
  const { exports } = new WebAssembly.Instance(modules[allocator], IMPORTS);
  if (exports._initialize) exports._initialize();
  if (!exports[name]) return null; // marks: malloc0 only
  if (live && !exports.prepare(live)) throw new Error(`${allocator}: prepare(${live}) failed`);
  // Earlier runs' memories are garbage by now. Collect them here, and let
  // the collector finish in the background, so that no run pays for the
  // runs before it.
  globalThis.gc();
  await sleep(GC_SETTLE_MS + lastMemoryBytes / (GC_SETTLE_MIB_PER_MS << 20));
  const start = performance.now();
  const done = exports[name](...args);
  const ms = performance.now() - start;
  lastMemoryBytes = exports.memory.buffer.byteLength;
  if (!done && REAL.includes(workload) && allocator === 'malloc0-tiny') return { oom: true };
  if (!done) throw new Error(`${allocator} ${name}: malloc returned NULL`);
  // Memory never shrinks: its size now is its peak. The driver's own data
  // lies below the heap base and is left out.
  const heap = lastMemoryBytes - exports.heap_base();
  const settled = name === 'frame_loop' ? Math.ceil((exports.settled_memory() - exports.heap_base()) / PAGE) : 0;
  return { ns: (ms * 1e6) / done, pages: Math.ceil(heap / PAGE), heap, live: exports.peak_live(), settled };
}

const results = {}; // workload -> allocator -> [runs]
for (let r = 0; r < REPEATS; r++) {
  for (const workload of Object.keys(WORKLOADS)) {
    results[workload] ??= {};
    jsHeap = BESIDE_JS_HEAP.includes(workload) ? jsObjects(JS_HEAP_OBJECTS) : null;
    for (const allocator of ALLOCATORS) {
      const run = await runOnce(allocator, workload);
      if (run) (results[workload][allocator] ??= []).push(run);
    }
  }
  jsHeap = null;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = [];
for (const [workload, all] of Object.entries(results)) {
  // An allocator that ran out of memory in any run gets an OOM row only.
  const byAllocator = {};
  for (const [allocator, runs] of Object.entries(all)) {
    if (runs.some((x) => x.oom)) rows.push({ workload, allocator, oom: true });
    else byAllocator[allocator] = runs;
  }
  const timed = Object.entries(byAllocator).filter(([a]) => !['floor', 'bump', 'original'].includes(a));
  const best = Math.min(...timed.map(([, runs]) => median(runs.map((x) => x.ns))));
  // Allocator cost: ns per pair less the floor's (the loop itself).
  const floor = byAllocator.floor ? median(byAllocator.floor.map((x) => x.ns)) : NaN; // marks: none
  const costOf = (a) => (byAllocator[a] ? median(byAllocator[a].map((x) => x.ns)) - floor : NaN);
  for (const [allocator, runs] of Object.entries(byAllocator)) {
    const ns = median(runs.map((x) => x.ns));
    const { pages, heap, live, settled } = runs[0];
    const cost = ns - floor;
    rows.push({ workload, allocator, ns, ratio: ns / best, pages, settled, live, overhead: live ? heap / live : 0,
      cost, vsDlmalloc: cost / costOf('dlmalloc'), vsEmmalloc: cost / costOf('emmalloc'), vsDefault: cost / costOf('malloc0') });
  }
}

const clangVersion = () => execFileSync(process.env.CC ?? 'clang', ['--version']).toString().match(/version (\S+)/)[1];
const date = new Date().toISOString().slice(0, 10);
const machine = `${cpus().length}-core ${cpus()[0].model.trim()}, Node ${process.version}`;
const MAIN = ['lifo', 'fifo', 'random_free', 'steady', 'churn', 'string_builder', 'marks', 'frame_loop'];
const field = (workload, allocator, name) => rows.find((x) => x.workload === workload && x.allocator === allocator)[name];
const cell = (workload, allocator, field, digits) => {
  const row = rows.find((x) => x.workload === workload && x.allocator === allocator);
  if (row?.oom) return 'OOM';
  return row && Number.isFinite(row[field]) ? row[field].toFixed(digits) : '–';
};
// What is printed also goes to bench/RESULTS.md.
const lines = [];
const out = (line) => {
  console.log(line);
  lines.push(line);
};
const table = (title, all, field, digits) => {
  const workloads = all.filter((w) => results[w]);
  if (!workloads.length) return;
  const shown = ALLOCATORS.filter((a) => workloads.some((w) => rows.some((x) => x.workload === w && x.allocator === a)));
  out(`\n${title}\n`);
  out(`| workload | ${shown.join(' | ')} |`);
  out(`|---|${shown.map(() => '---:').join('|')}|`);
  for (const w of workloads) {
    out(`| ${w} | ${shown.map((a) => cell(w, a, field, digits)).join(' | ')} |`);
  }
};

out(`# malloc0 benchmark results\n\n\`make bench\` on ${date}, ${machine}, clang ${clangVersion()}, median of ${REPEATS}${QUICK ? ' (QUICK: smoke run, figures not meaningful)' : ''}.`);
table('ns per malloc+free pair (bump never frees; floor does nothing: the loop itself)', MAIN, 'ns', 1);
table('ns per pair / the fastest allocator', MAIN, 'ratio', 2);
table('allocator cost (ns per pair less the floor\'s) / dlmalloc\'s', MAIN, 'vsDlmalloc', 2);
table('allocator cost / emmalloc\'s', MAIN, 'vsEmmalloc', 2);
if (results.lifo) out(`\nLIFO, the original / the tiny profile (at least 1: the tiny profile is no slower): ns per pair ${
  (field('lifo', 'original', 'ns') / field('lifo', 'malloc0-tiny', 'ns')).toFixed(2)}, allocator cost ${
  (field('lifo', 'original', 'cost') / field('lifo', 'malloc0-tiny', 'cost')).toFixed(2)}`);
table('peak live bytes (what the workload itself holds)', MAIN, 'live', 0);
table('peak heap pages (64 KiB above the heap base)', MAIN, 'pages', 0);
table('overhead: peak heap bytes / peak live bytes', MAIN, 'overhead', 2);
table('frame_loop: heap pages at frame 500 (then at frame 3,000 in the pages table); malloc0 pops a scope per frame, dlmalloc frees each scratch block', ['frame_loop'], 'settled', 0);
const SCALING = Object.keys(WORKLOADS).filter((w) => w.includes('@'));
table('O(1): ns per pair as live blocks grow from 10^3 to 10^6', SCALING, 'ns', 1);
table('programs shaped like real ones (bench/driver.c): peak heap pages (OOM: malloc returned NULL)', REAL, 'pages', 0);
table('programs shaped like real ones: overhead, peak heap bytes / peak live bytes', REAL, 'overhead', 2);
table('programs shaped like real ones: ns per malloc+free pair (or realloc)', REAL, 'ns', 1);
table('programs shaped like real ones: allocator cost / dlmalloc\'s', REAL, 'vsDlmalloc', 2);
table('programs shaped like real ones: allocator cost / emmalloc\'s', REAL, 'vsEmmalloc', 2);
// Other builds of the default profile against it: the lock's cost, the
// optimization level's (the same heap, compiled for size), and the checks'.
const againstDefault = [...MAIN, ...REAL].filter((w) => results[w]);
if (againstDefault.length) {
  out('\nother builds of the default profile: allocator cost / the default build\'s (-O2).  Thread-safe (MALLOC0_THREADS), on one thread: shared memory brings bulk memory, so memory.fill and memory.copy make large blocks cheaper, and V8 grows a shared memory at a fraction of what it takes to grow an unshared one (bulk_load, and bulk_load_js_heap, where each grow of an unshared memory may collect the JS heap).  -Oz: malloc0.c compiled at -Oz, the driver at -O2.  MALLOC0_CHECKS=0: without the guarantees against invalid input (no check, no retired header erased)\n');
  out('| workload | malloc0-threadsafe / malloc0 | malloc0-Oz / malloc0 | MALLOC0_CHECKS=0 / malloc0 |');
  out('|---|---:|---:|---:|');
  for (const w of againstDefault) {
    out(`| ${w} | ${['malloc0-threadsafe', 'malloc0-Oz', 'malloc0-nochecks'].map((a) => cell(w, a, 'vsDefault', 2)).join(' | ')} |`);
  }
}

// The threaded workload (bench/threads.c): emcc -pthread builds, each run
// with 1 and 2 threads, allocators interleaved; total pairs per microsecond.
// Each run takes this process's Node flags (the Makefile's --no-liftoff):
// under Node's default tiering, code that an emscripten program's threads
// run at once runs at half speed on each (measured on a loop with no memory
// access: two threads do what one does), so no allocator could show that
// two threads scale.  malloc0-nochecks: built with MALLOC0_CHECKS=0, what
// the guarantees against invalid input cost threads.
const NODE_FLAGS = process.execArgv.join(' ') || 'its defaults';
const THREAD_PAIRS = QUICK ? 20000 : 2000000;
const THREAD_ALLOCATORS = ['malloc0', 'malloc0-nochecks', 'emmalloc', 'dlmalloc'];
const throughput = {};
// Once a repetition, the machine's cross-core round trip (bench/crosscore.mjs).
const CROSSCORE_ROUNDS = QUICK ? 10000 : 1000000;
const roundTrips = [];
for (let r = 0; r < REPEATS; r++) {
  roundTrips.push(Number(execFileSync(process.execPath, [new URL('crosscore.mjs', here).pathname, String(CROSSCORE_ROUNDS)],
    { encoding: 'utf8' }).trim()));
  for (const threads of [1, 2]) {
    for (const allocator of THREAD_ALLOCATORS) {
      const loader = new URL(`em-threads-${allocator}.js`, dir).pathname;
      const printed = execFileSync(process.execPath, [...process.execArgv, loader, String(threads), String(THREAD_PAIRS)], { encoding: 'utf8' });
      (throughput[`${allocator}@${threads}`] ??= []).push(Number(printed.trim()));
    }
  }
}
out(`\nthreads (bench/threads.c, emcc -pthread): small blocks, one in 16 freed by the next thread; total malloc+free pairs per microsecond, ${THREAD_PAIRS} pairs per thread (higher is better); Node with ${NODE_FLAGS}, as the runs above (its default tiering halves each of two threads: see bench/run.mjs); malloc0-nochecks: built with MALLOC0_CHECKS=0\n`);
out(`| threads | ${THREAD_ALLOCATORS.join(' | ')} |`);
out(`|---|${THREAD_ALLOCATORS.map(() => '---:').join('|')}|`);
for (const threads of [1, 2]) {
  out(`| ${threads} | ${THREAD_ALLOCATORS.map((a) => median(throughput[`${a}@${threads}`]).toFixed(2)).join(' | ')} |`);
}
const range = (values, digits) => `${Math.min(...values).toFixed(digits)} to ${Math.max(...values).toFixed(digits)}`;
out(`\nTwo threads, run by run: ${THREAD_ALLOCATORS.map((a) => `${a} ${range(throughput[`${a}@2`], 2)}`).join(', ')}. ` +
  `The machine's cross-core round trip (bench/crosscore.mjs: two workers pass a counter through shared memory), ` +
  `once a repetition: median ${median(roundTrips).toFixed(0)} ns, ${range(roundTrips, 0)}; whatever two threads share ` +
  `costs that much, and on a virtual machine it changes from run to run.`);

// The README's table: malloc0 against dlmalloc, every workload both run but
// the scaling ones (dlmalloc has no marks).
const SUMMARY = [...MAIN, ...REAL].filter((w) => results[w] && w !== 'marks');
if (SUMMARY.length) {
  out('\nsummary (the README\'s table): peak heap pages, malloc0 / dlmalloc, and allocator cost / dlmalloc\'s\n');
  out('| workload | malloc0 pages | dlmalloc pages | malloc0 cost / dlmalloc\'s | with MALLOC0_FAST=1 |');
  out('|---|---:|---:|---:|---:|');
  for (const w of SUMMARY) {
    out(`| ${w} | ${cell(w, 'malloc0', 'pages', 0)} | ${cell(w, 'dlmalloc', 'pages', 0)} | ${
      cell(w, 'malloc0', 'vsDlmalloc', 2)} | ${cell(w, 'malloc0-fast', 'vsDlmalloc', 2)} |`);
  }
}

// Code-section bytes of each allocator exporting malloc and free, read from
// the modules the Makefile built at -Oz.
const codeBytes = (file) => codeSectionBytes(readFileSync(new URL(file, dir)));
const SIZE_FILES = { malloc0: 'size-default.wasm', 'malloc0-tiny': 'size-tiny.wasm', dlmalloc: 'size-dlmalloc.wasm', bump: 'size-bump.wasm' };
out('\ncode-section bytes, malloc and free exported, -Oz\n');
out(`| ${Object.keys(SIZE_FILES).join(' | ')} |`);
out(`|${Object.keys(SIZE_FILES).map(() => '---:').join('|')}|`);
out(`| ${Object.values(SIZE_FILES).map(codeBytes).join(' | ')} |`);

// The size tables the Makefile wrote before this run (make bench).
for (const name of ['size.md', 'costs.md']) {
  const file = new URL(name, dir);
  if (existsSync(file)) out(`\n${readFileSync(file, 'utf8').trim()}`);
}

if (!QUICK && !process.env.BENCH_ONLY) {
  const tsv = ['workload\tallocator\tns_per_pair\tratio\tpeak_pages\tpeak_live_bytes\toverhead',
    ...rows.map((r) => r.oom ? [r.workload, r.allocator, 'OOM'].join('\t') : [r.workload, r.allocator, r.ns.toFixed(2), r.ratio.toFixed(3), r.pages, r.live, r.overhead.toFixed(3)].join('\t'))];
  writeFileSync(new URL('results.tsv', here), `${tsv.join('\n')}\n`);
  writeFileSync(RESULTS, `${lines.join('\n')}\n`);
  writeFileSync(README, withDemoOutput(withCurrentTables(read(README), read(RESULTS)), demoPrints()));
  plot();
}

// Two bar charts, ns per pair and peak pages, for the main workloads.
function plot() {
  const shown = ALLOCATORS.filter((a) => a !== 'floor' && !ONLY[a]);
  const wide = (field) => [`workload\t${shown.join('\t')}`,
    ...MAIN.map((w) => `${w}\t${shown.map((a) => cell(w, a, field, 2).replace('–', 'NaN')).join('\t')}`)].join('\n');
  writeFileSync(new URL('plot-ns.tsv', dir), `${wide('ns')}\n`);
  writeFileSync(new URL('plot-pages.tsv', dir), `${wide('pages')}\n`);
  execFileSync('gnuplot', ['-e', `data_dir='${dir.pathname}'; output='${new URL('results.svg', here).pathname}'; ` +
    `subtitle='${date}, ${machine}'; columns=${shown.length + 1}`, new URL('plot.gp', here).pathname]);
  console.log("\nwrote bench/RESULTS.md, bench/results.tsv and bench/results.svg, and the README's tables and make demo's output");
}
