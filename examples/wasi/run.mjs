// Runs a wasm32-wasi program in Node's WASI and prints what it prints.
// Usage: node examples/wasi/run.mjs program.wasm [--pages]
// --pages: then prints the memory's size at exit, its peak (it never shrinks).
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const wasi = new WASI({ version: 'preview1', args: [process.argv[2]], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(process.argv[2]));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
if (process.argv[3] === '--pages') {
  console.log(`memory at exit: ${instance.exports.memory.buffer.byteLength / 65536} pages`);
}
