// Loads a malloc0 test module (built by the Makefile) and wraps its exports.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ALIGNS = [4, 8, 16];
export const PROFILES = ['default', 'tiny'];
// Every build the suite runs against: { profile, align, name }.
export const BUILDS = PROFILES.flatMap((profile) => ALIGNS.map((align) => ({
  profile, align, name: `${profile} profile, MALLOC0_ALIGN ${align}`,
})));
export const PAGE = 65536;
export const MAX_PAGES = 64; // the Makefile's MAX_PAGES
export const TAGS = 8; // bytes of tags per block, as malloc0.h states
// Mark block sizes, from malloc0.h's table (wasm32).
const MARK_BLOCK = { default: { 4: 284, 8: 288, 16: 288 }, tiny: { 4: 12, 8: 16, 16: 16 } };
const STATS_FIELDS = ['heap_base', 'tail', 'base_mark', 'peak_tail', 'memory_size',
  'bytes_in_use', 'blocks_in_use', 'bytes_free', 'marks', 'scope_floor'];

const buildDir = new URL('../../build/test/', import.meta.url);

export function wasmPath({ profile, align }, variant = 'plain') {
  return fileURLToPath(new URL(`${profile}-a${align}-${variant}.wasm`, buildDir));
}

// variant: plain | max (linked with --max-memory) | import (host memory) |
// debug (MALLOC0_DEBUG) | bulk (-mbulk-memory: memory.fill and memory.copy) |
// top (a maximum of 4 GiB)
export function loadHeap(build, variant = 'plain', { maxPages = MAX_PAGES } = {}) {
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
  return {
    align,
    profile: build.profile,
    exports,
    memory,
    malloc: (n) => exports.malloc(n) >>> 0,
    free: (p) => exports.free(p),
    freeAll: () => exports.free_all(),
    freeAllMark: () => exports.free_all_mark(),
    getMark: () => exports.free_get_mark() >>> 0,
    freeToMark: (m) => exports.free_to_mark(m),
    popMark: (m) => exports.free_pop_mark(m),
    calloc: (n, each) => exports.calloc(n, each) >>> 0,
    realloc: (p, n) => exports.realloc(p, n) >>> 0,
    alignedAlloc: (align, n) => exports.aligned_alloc(align, n) >>> 0,
    memalign: (align, n) => exports.memalign(align, n) >>> 0,
    usableSize: (p) => exports.malloc_usable_size(p) >>> 0,
    posixMemalign: (out, align, n) => exports.posix_memalign(out, align, n),
    check: () => exports.malloc0_check() === 1,
    // Views are made fresh each time: memory.grow detaches old buffers.
    bytes: () => new Uint8Array(memory.buffer),
    stats() {
      const at = exports.test_stats() >>> 0;
      const words = new Uint32Array(memory.buffer, at, STATS_FIELDS.length);
      return Object.fromEntries(STATS_FIELDS.map((name, i) => [name, words[i]]));
    },
    // The bytes a mark block takes, as malloc0.h documents them.
    markBlock: MARK_BLOCK[build.profile][align],
    // The size malloc0.h documents for a block of n bytes.
    blockSize(n) {
      return Math.ceil((n + TAGS) / align) * align;
    },
  };
}

// A small seeded generator (mulberry32), so every run sees the same operations.
export function random(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    below: (n) => Math.floor(next() * n),
  };
}
