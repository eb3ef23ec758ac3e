// make size-costs: what each guarantee costs in code bytes. Each row removes
// one check from a scratch copy of malloc0.c and reports the bytes saved at
// -Oz, for malloc+free alone and with the four mark functions. A patch that
// no longer applies fails loudly: update it along with malloc0.c.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../', import.meta.url).pathname;
const source = readFileSync(join(root, 'malloc0.c'), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'malloc0-cost-'));
const CORE = ['malloc', 'free'];
const MARKS = [...CORE, 'free_all', 'free_all_mark', 'free_get_mark', 'free_to_mark'];
const cflags = (process.env.CFLAGS ?? '').split(' ').filter(Boolean);
// The Makefile's clang and the PATH it runs with, which leaves wasm-opt out.
const clang = process.env.WASM_CLANG ?? 'clang';
const clangEnv = process.env.WASM_PATH ? { ...process.env, PATH: process.env.WASM_PATH } : process.env;
const PROFILES = { default: [], tiny: ['-DMALLOC0_TINY=1'] };

function codeBytes(text, exports, profile) {
  const c = join(scratch, 'malloc0.c');
  const wasm = join(scratch, 'm.wasm');
  writeFileSync(c, text);
  execFileSync(clang, [...cflags, ...PROFILES[profile], `-I${root}`, '-Wl,--no-entry',
    ...exports.map((e) => `-Wl,--export=${e}`), '-o', wasm, c], { env: clangEnv });
  const sections = execFileSync('wasm-objdump', ['-h', wasm], { encoding: 'utf8' });
  return parseInt(/Code .*\(size=0x([0-9a-f]+)\)/.exec(sections)[1], 16);
}

function without(patches) {
  return patches.reduce((text, [from, to]) => {
    if (!text.includes(from)) throw new Error(`patch no longer applies: ${from}`);
    return text.replace(from, to);
  }, source);
}

const GUARANTEES = {
  'malloc returns NULL when memory.grow fails': [[
    'return __builtin_wasm_memory_grow(0, needed) != GROW_FAILED;',
    '__builtin_wasm_memory_grow(0, needed);\n    return 1;']],
  'malloc returns NULL for sizes that would wrap around': [[
    'if (n > NO_STALE - (TAGS_PER_BLOCK_BYTES + ALIGN) - heap_tail)\n        return 0;', '']],
  'free ignores pointers that are not blocks in use': [[
    'if (block_in_use(block))\n        return block;\n    if (p)\n        reject_input();\n    return 0;',
    'return p ? block : 0;']],
  'a footer never reads as a header (MALLOC0_ALIGN 4)': [[
    '#define FOOTER_KEY (~FLAG_BITS)', '#define FOOTER_KEY 0']],
  'tags retired by resets are erased (headers and footers)': [
    ['    stale_erase_below(end);\n', ''],
    ['    if (stale_next != heap_tail)\n        *tag_at(heap_tail) = stale_link(stale_next, heap_tail);\n', '']],
  'headers of blocks freed at the tail are erased': [[
    '        *tag_at(block) = 0;\n        heap_tail = block;', '        heap_tail = block;']],
  'free_to_mark ignores marks that are not live': [[
    'if (!mark_is_live(address)) {\n        reject_input();\n        return;\n    }', '']],
  'peak tail in the stats': [['    if (end > peak_tail)\n        peak_tail = end;\n', '']],
  'memory grows by an eighth, not by each need (speed)': [[
    '    if (step > needed && __builtin_wasm_memory_grow(0, step) != GROW_FAILED)\n        return 1;\n', '']],
};

for (const profile of Object.keys(PROFILES)) {
  const core = codeBytes(source, CORE, profile);
  const marks = codeBytes(source, MARKS, profile);
  console.log(`${profile} profile, clang ${cflags.join(' ')}: malloc+free ${core}, with marks ${marks}\n`);
  console.log('| guarantee | malloc+free | with marks |');
  console.log('|---|---:|---:|');
  for (const [name, patches] of Object.entries(GUARANTEES)) {
    const text = without(patches);
    console.log(`| ${name} | ${core - codeBytes(text, CORE, profile)} | ${marks - codeBytes(text, MARKS, profile)} |`);
  }
  console.log();
}
