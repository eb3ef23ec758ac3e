// make size-costs: what each guarantee costs in code bytes. Each row removes
// one check from a scratch copy of malloc0.c and reports the bytes saved at
// -Oz, for malloc+free alone, the six seed functions, and with free_pop_mark,
// and for the thread-safe build's malloc+free (THREAD_FLAGS), as one markdown
// table (make bench puts it in bench/RESULTS.md). The patches are in
// bench/guarantees.mjs.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchFolder } from '../tests/lib/scratch.mjs';
import { GUARANTEES, without } from './guarantees.mjs';

const root = new URL('../', import.meta.url).pathname;
const source = readFileSync(join(root, 'malloc0.c'), 'utf8');
const scratch = scratchFolder('malloc0-cost-');
const CORE = ['malloc', 'free'];
const SEED = [...CORE, 'free_all', 'free_all_mark', 'free_get_mark', 'free_to_mark'];
const MARKS = [...SEED, 'free_pop_mark'];
// Flags from the environment, as the Makefile passes them.
const flagsFrom = (name) => (process.env[name] ?? '').split(' ').filter(Boolean);
const cflags = flagsFrom('CFLAGS');
// The Makefile's clang and the PATH it runs with, which leaves wasm-opt out.
const clang = process.env.WASM_CLANG ?? 'clang';
const clangEnv = process.env.WASM_PATH ? { ...process.env, PATH: process.env.WASM_PATH } : process.env;
// Each profile's flags, and the sets of exports it is priced for.
const EVERY_SET = [['malloc+free', CORE], ['seed six', SEED], ['+ pop', MARKS]];
const PROFILES = {
  default: { flags: [], sets: EVERY_SET },
  tiny: { flags: ['-DMALLOC0_TINY=1'], sets: EVERY_SET },
  'thread-safe': { flags: flagsFrom('THREAD_FLAGS'), sets: [EVERY_SET[0]] },
};

function codeBytes(text, exports, profile) {
  const c = join(scratch, 'malloc0.c');
  const wasm = join(scratch, 'm.wasm');
  writeFileSync(c, text);
  execFileSync(clang, [...cflags, ...PROFILES[profile].flags, `-I${root}`, '-Wl,--no-entry',
    ...exports.map((e) => `-Wl,--export=${e}`), '-o', wasm, c], { env: clangEnv });
  const sections = execFileSync('wasm-objdump', ['-h', wasm], { encoding: 'utf8' });
  return parseInt(/Code .*\(size=0x([0-9a-f]+)\)/.exec(sections)[1], 16);
}

// One table: a column per profile and set of exports.
const columns = Object.entries(PROFILES).flatMap(([profile, { sets }]) => sets.map(([title, exports]) =>
  ({ profile, title, exports, bytes: codeBytes(source, exports, profile) })));
console.log(`what each guarantee costs: code bytes saved by removing it, clang ${cflags.join(' ')}\n`);
console.log(`| guarantee | ${columns.map((c) => `${c.profile}: ${c.title}`).join(' | ')} |`);
console.log(`|---|${columns.map(() => '---:').join('|')}|`);
for (const [name, patches] of Object.entries(GUARANTEES)) {
  const text = without(source, patches);
  console.log(`| ${name} | ${columns.map((c) => c.bytes - codeBytes(text, c.exports, c.profile)).join(' | ')} |`);
}
