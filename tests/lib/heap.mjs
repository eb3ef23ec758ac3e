// Loads a malloc0 test module (built by the Makefile) and wraps its exports.
// wasm64 modules take and return BigInt; the wrapper speaks Number to both.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { readCString } from '../../examples/lib/malloc0.mjs';
import { statsAt } from './stats.mjs';

export { random } from './random.mjs';

// Node 20 runs memory64 behind a flag, set before any module compiles.
v8.setFlagsFromString('--experimental-wasm-memory64');

export const ALIGNS = [4, 8, 16];
export const PROFILES = ['default', 'tiny'];
// Every wasm32 build the suite runs against: { profile, align, name }.
export const BUILDS = PROFILES.flatMap((profile) => ALIGNS.map((align) => ({
  profile, align, name: `${profile} profile, MALLOC0_ALIGN ${align}`,
})));
// MALLOC0_TEST_CHECKS=0 runs the suite over builds with MALLOC0_CHECKS=0
// (make test does, for every test of heap modules): the invalid-input tests
// skip themselves, and the wasm64 builds run with checks only.
export const CHECKS = process.env.MALLOC0_TEST_CHECKS !== '0';
// Tests of invalid input skip over those builds, for this reason.
export const UNDEFINED_WITHOUT_CHECKS = CHECKS ? false : 'invalid input is undefined with MALLOC0_CHECKS=0';
// The wasm32 builds, each also with MALLOC0_FAST=1 (the fast variant).
export const WITH_FAST = BUILDS.flatMap((b) => [b, { ...b, variant: 'fast', name: `${b.name}, MALLOC0_FAST` }]);
// The same builds for memory64 (--target=wasm64).
export const BUILDS64 = CHECKS ? BUILDS.map((b) => ({ ...b, wasm64: true, name: `${b.name}, wasm64` })) : [];
export const PAGE = 65536;
export const MAX_PAGES = 64; // the Makefile's MAX_PAGES
export const TAGS = 4; // bytes of tags per block in use (its header), as malloc0.h states
// Block sizes are multiples of the grain: the alignment, at least 8.
export const grainOf = (align) => Math.max(align, 8);
// Mark block sizes, as malloc0.h gives them.
const MARK_BLOCK = {
  wasm32: { default: { 4: 936, 8: 936, 16: 944 }, tiny: { 4: 24, 8: 24, 16: 32 } },
  wasm64: { default: { 4: 1848, 8: 1848, 16: 1856 }, tiny: { 4: 32, 8: 32, 16: 32 } },
};

const buildDir = new URL('../../build/', import.meta.url);

export function wasmPath({ profile, align, wasm64 }, variant = 'plain') {
  const dir = wasm64 ? 'test64' : CHECKS ? 'test' : 'test-nochecks';
  return fileURLToPath(new URL(`${dir}/${profile}-a${align}-${variant}.wasm`, buildDir));
}

// variant: plain | max (linked with --max-memory) | import (host memory) |
// debug (MALLOC0_DEBUG) | bulk (-mbulk-memory: memory.fill and memory.copy;
// and -Oz, which leaves out what optimizing for speed adds) |
// top (a maximum of 4 GiB)
export function loadHeap(build, variant = build.variant ?? 'plain', { maxPages = MAX_PAGES } = {}) {
  const { align } = build;
  const module = new WebAssembly.Module(readFileSync(wasmPath(build, variant)));
  const imports = {};
  let hostMemory;
  if (variant === 'import') {
    const [{ descriptor }] = WebAssembly.Module.imports(module)
      .filter((i) => i.kind === 'memory').map((i) => ({ descriptor: i }));
    hostMemory = new WebAssembly.Memory({ initial: 2, maximum: maxPages });
    imports[descriptor.module] = { [descriptor.name]: hostMemory };
  }
  const { exports } = new WebAssembly.Instance(module, imports);
  const memory = hostMemory ?? exports.memory;
  // Arguments in, results out: BigInt in wasm64, unsigned 32-bit in wasm32.
  const big = Boolean(build.wasm64);
  const arg = big ? (x) => BigInt(x) : (x) => x;
  const out = big ? (x) => Number(x) : (x) => x >>> 0;
  return {
    align,
    profile: build.profile,
    exports,
    memory,
    wasm64: big,
    malloc: (n) => out(exports.malloc(arg(n))),
    free: (p) => exports.free(arg(p)),
    freeAll: () => exports.free_all(),
    freeAllMark: () => exports.free_all_mark(),
    getMark: () => out(exports.free_get_mark()),
    freeToMark: (m) => exports.free_to_mark(arg(m)),
    popMark: (m) => exports.free_pop_mark(arg(m)),
    calloc: (n, each) => out(exports.calloc(arg(n), arg(each))),
    realloc: (p, n) => out(exports.realloc(arg(p), arg(n))),
    alignedAlloc: (align, n) => out(exports.aligned_alloc(arg(align), arg(n))),
    memalign: (align, n) => out(exports.memalign(arg(align), arg(n))),
    usableSize: (p) => out(exports.malloc_usable_size(arg(p))),
    posixMemalign: (to, align, n) => exports.posix_memalign(arg(to), arg(align), arg(n)),
    check: () => exports.malloc0_check() === 1,
    // The debug build's reason for its last trap, or null.
    trapReason() {
      const at = out(exports.malloc0_trap_reason());
      return at ? readCString(memory, at) : null;
    },
    // Views are made fresh each time: memory.grow detaches old buffers.
    bytes: () => new Uint8Array(memory.buffer),
    stats: () => statsAt(memory, out(exports.test_stats()), big),
    // The bytes a mark block takes, as malloc0.h documents them.
    markBlock: MARK_BLOCK[big ? 'wasm64' : 'wasm32'][build.profile][align],
    // The size malloc0.h documents for a block of n bytes.
    blockSize(n) {
      const grain = grainOf(align);
      return Math.ceil((n + TAGS) / grain) * grain;
    },
  };
}
