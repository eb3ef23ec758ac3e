// make demo: toggle a string through malloc0 in Node, print the result and
// the module's size.
import { readFile } from 'node:fs/promises';
import { loadToggle } from './str_toggle.mjs';

const wasmUrl = new URL('./str_toggle.wasm', import.meta.url);
const bytes = await readFile(wasmUrl);
const toggle = await loadToggle(bytes);
const input = process.argv[2] ?? 'Hello, WebAssembly! malloc0 says hi.';
console.log(`input:  ${input}`);
console.log(`output: ${toggle(input)}`);
console.log(`str_toggle.wasm: ${bytes.length} bytes (malloc0 + str_toggle)`);
