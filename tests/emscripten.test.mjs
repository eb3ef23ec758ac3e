// malloc0 as emscripten's allocator (-sMALLOC=none): examples/emscripten's
// program prints the same over dlmalloc, emmalloc and malloc0 after memory
// grows past its initial size; a build with a memory maximum gets NULL at
// it, not an abort; and the benchmark driver, built by emcc over malloc0,
// runs every workload with growth and leaves a consistent heap.  And threads:
// workers.c (-pthread), over malloc0's thread-safe build, prints what it
// prints over dlmalloc and emmalloc, and when its threads' stacks fill
// memory, grows it, or where it may not grow, ends in the runtime's abort
// as it does over them.  And C library functions that allocate by the C
// library's own names link over malloc0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BUILDS, WORKER_BUILDS, runBuild, runWorkers, runWorkersOutOfMemory } from '../examples/emscripten/run.mjs';

const INITIAL_MEMORY = 16 << 20; // emscripten's default
const MAXIMUM_MEMORY = 32 << 20; // the malloc0-max build's

test('emscripten: every build prints the same, after memory grows', async () => {
  const outputs = {};
  for (const name of BUILDS) {
    const { lines, module } = await runBuild(name);
    outputs[name] = lines;
    assert.ok(module.HEAPU8.length > INITIAL_MEMORY, `${name}: memory grew (${module.HEAPU8.length})`);
  }
  assert.ok(outputs.dlmalloc.some((l) => l.startsWith('growth: 64 blocks of 1 MiB')), outputs.dlmalloc.join('\n'));
  for (const name of BUILDS) assert.deepEqual(outputs[name], outputs.dlmalloc, name);
});

test('emscripten: with a memory maximum, malloc0 returns NULL at it and the program goes on', async () => {
  const { lines, module } = await runBuild('malloc0-max');
  const count = module._fill_until_null(1024);
  assert.ok(count > 4 && count < 32, `${count} blocks of 1 MiB under a 32 MiB maximum`);
  assert.ok(module.HEAPU8.length <= MAXIMUM_MEMORY);
  assert.equal(module._fill_until_null(1024), count, 'everything freed is had again');
  assert.equal(module._scene_load(100), 100);
  module._scene_end();
  assert.ok(!lines.some((l) => /abort|Aborted/i.test(l)), lines.join('\n'));
});

test('emscripten: without memory growth, with -sABORTING_MALLOC=0, malloc0 returns NULL at the end of memory, never an abort', async () => {
  const { lines, module } = await runBuild('malloc0-fixed');
  const count = module._fill_until_null(1024);
  assert.ok(count > 0 && count < 16, `${count} blocks of 1 MiB in 16 MiB that do not grow`);
  assert.equal(module.HEAPU8.length, INITIAL_MEMORY);
  assert.equal(module._scene_load(100), 100);
  module._scene_end();
  assert.ok(!lines.some((l) => /abort|Aborted/i.test(l)), lines.join('\n'));
});

test('emscripten: without memory growth, by default (-sABORTING_MALLOC), the runtime aborts with OOM at the end of memory, as for its own allocators', async () => {
  const { module } = await runBuild('malloc0-aborting');
  assert.throws(() => module._fill_until_null(1024), /Aborted\(OOM\)/);
  assert.equal(module.HEAPU8.length, INITIAL_MEMORY);
});

test('emscripten: localtime, newlocale and atexit, which allocate by the C library\'s own names, link and run over malloc0 as over dlmalloc', () => {
  const run = (name) => execFileSync(process.execPath, [new URL(`../build/emscripten/libc-${name}.js`, import.meta.url).pathname], { encoding: 'utf8' });
  const printed = run('malloc0');
  assert.match(printed, /^localtime: \d+\nnewlocale: a locale\n40 exit handlers ran\n$/);
  assert.equal(printed, run('dlmalloc'));
});

test('emscripten: the benchmark driver runs over malloc0 with growth, heap consistent', () => {
  const bytes = readFileSync(new URL('../build/bench/em-malloc0.wasm', import.meta.url));
  let growths = 0;
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes),
    { env: { emscripten_notify_memory_growth() { growths++; } } });
  exports._initialize?.();
  const PAIRS = 20000;
  for (const name of ['lifo', 'fifo', 'random_free', 'steady', 'churn', 'string_builder', 'marks']) {
    assert.ok(exports[name](PAIRS) >= PAIRS, `${name} ran`);
    assert.equal(exports.malloc0_check(), 1, `heap consistent after ${name}`);
  }
  assert.ok(exports.prepare(100000), 'prepare(100,000 live blocks)');
  assert.ok(exports.replace_random(PAIRS) >= PAIRS);
  assert.ok(exports.frame_loop(500) > 0);
  assert.equal(exports.malloc0_check(), 1);
  assert.ok(growths > 0 && exports.memory.buffer.byteLength > INITIAL_MEMORY, 'memory grew, and the runtime was told');
});

test('emscripten -pthread: threads allocate, hand blocks over, print and exit, as over dlmalloc and emmalloc', () => {
  const outputs = Object.fromEntries(WORKER_BUILDS.map((name) => [name, runWorkers(name)]));
  const threadLines = outputs.dlmalloc.filter((l) => /^thread \d: 50000 blocks, \d+ bytes, 32 freed by thread \d, 0 changed$/.test(l));
  assert.equal(threadLines.length, 4, outputs.dlmalloc.join('\n'));
  assert.ok(outputs.dlmalloc.includes('all 4 threads joined'));
  for (const name of WORKER_BUILDS) assert.deepEqual(outputs[name], outputs.dlmalloc, name);
});

// The stacks of the test below, in memory that grows: pthread_create grows
// it while the threads started first allocate.
test('emscripten -pthread: thread stacks that fill 16 MiB grow memory, and the threads print as over dlmalloc', () => {
  const malloc0 = runWorkers('grow-malloc0');
  assert.ok(malloc0.includes('all 4 threads joined'), malloc0.join('\n'));
  assert.deepEqual(malloc0, runWorkers('grow-dlmalloc'));
  assert.deepEqual(malloc0, runWorkers('dlmalloc'), 'as with the default stacks, without growth');
});

// pthread_create uses the stack its malloc returns without a check: over
// NULL, a thread's stack would cover the heap from address 0.
test('emscripten -pthread: when thread stacks fill memory that does not grow, the runtime aborts with OOM, as over dlmalloc and emmalloc', () => {
  for (const name of WORKER_BUILDS) {
    const { status, output } = runWorkersOutOfMemory(name);
    const shown = output.split('\n').filter((line) => line.length < 200).slice(0, 8).join('\n');
    assert.notEqual(status, 0, `${name}: ${shown}`);
    assert.match(output, /^Aborted\(OOM\)$/m, `${name}: ${shown}`);
    assert.doesNotMatch(output, /unreachable|out of bounds|all \d threads joined/, `${name}: ${shown}`);
  }
});
