// Runs a wasm32-wasi program in Node's WASI and prints what it prints.
// Usage: node examples/wasi/run.mjs program.wasm [--pages]
// --pages: then prints the memory's size at exit, its peak (it never shrinks).
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';

const wasi = new WASI({ version: 'preview1', args: [process.argv[2]], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(process.argv[2]));
// Each WASI import is called through a closure of its own: Node 20's fast
// path for fd_write can abort the process when a garbage collection runs
// during it.
const imports = wasi.getImportObject();
const preview1 = imports.wasi_snapshot_preview1;
imports.wasi_snapshot_preview1 = Object.fromEntries(Object.keys(preview1).map((k) => [k, (...a) => preview1[k](...a)]));
const instance = await WebAssembly.instantiate(module, imports);
process.exitCode = wasi.start(instance);
if (process.argv[3] === '--pages') {
  console.log(`memory at exit: ${instance.exports.memory.buffer.byteLength / 65536} pages`);
}
