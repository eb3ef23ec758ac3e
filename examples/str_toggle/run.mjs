// make demo: toggle a string through malloc0 in Node, print the result and
// the module's size.
import { stat } from 'node:fs/promises';
import { loadToggle } from './str_toggle.mjs';

const wasm = new URL('./str_toggle.wasm', import.meta.url);
const toggle = await loadToggle(wasm);
const input = process.argv[2] ?? 'Hello, WebAssembly! malloc0 says hi.';
console.log(`input:  ${input}`);
console.log(`output: ${toggle(input)}`);
console.log(`str_toggle.wasm: ${(await stat(wasm)).size} bytes (malloc0 + str_toggle)`);
