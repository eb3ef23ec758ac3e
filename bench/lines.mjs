// make size-lines: runs the README's lines for str_toggle as it shows them,
// with the Makefile's clang (WASM_CLANG) and PATH (WASM_PATH, which leaves
// binaryen's wasm-opt out), and prints the bytes of the module each gives
// as a markdown table (make bench puts it in bench/RESULTS.md).
import { execSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { README, commands, fences, read } from '../tests/lib/readme.mjs';
import { copyInto, scratchFolder } from '../tests/lib/scratch.mjs';

const OUTPUT = 'str_toggle.wasm';
const SOURCES = ['malloc0.h', 'malloc0.c', 'examples/str_toggle/str_toggle.c'];
const scratch = scratchFolder('malloc0-lines-');
copyInto(scratch, SOURCES);

const lines = fences(read(README)).filter((f) => f.lang === 'sh').flatMap((f) => commands(f.body))
  .filter(({ command }) => command.startsWith('clang ') && command.includes(`-o ${OUTPUT} `));
if (!lines.length) throw new Error(`README: no clang line that builds ${OUTPUT}`);
const clang = process.env.WASM_CLANG ?? 'clang';
const env = process.env.WASM_PATH ? { ...process.env, PATH: process.env.WASM_PATH } : process.env;
console.log(`${OUTPUT}: module bytes from the README's lines (${execSync(`${clang} --version`, { encoding: 'utf8' })
  .split('\n')[0]}, without wasm-opt)\n`);
console.log('| line | bytes |');
console.log('|---|---:|');
for (const { label, command } of lines) {
  execSync(command.replace(/^clang /, `${clang} `), { cwd: scratch, env, stdio: 'inherit' });
  console.log(`| ${label} | ${statSync(join(scratch, OUTPUT)).size} |`);
}
