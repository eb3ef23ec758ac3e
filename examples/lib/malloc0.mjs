// A small helper for calling C compiled with malloc0 from JS, in Node or a
// browser (ESM, no dependencies). It loads the module and copies strings and
// typed arrays in and out of wasm memory through malloc and free.
//
// The usual bug in wasm glue code: memory.grow (inside any call that may
// allocate) detaches memory.buffer, and every view made on the old buffer
// reads and writes nothing. This helper makes a new view for every access;
// keep the views it returns only until the next call into wasm.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// The NUL-terminated UTF-8 string at address in memory.  It decodes a copy:
// TextDecoder refuses views of a shared memory's buffer.
export function readCString(memory, address) {
  const bytes = new Uint8Array(memory.buffer);
  const end = bytes.indexOf(0, address);
  return decoder.decode(bytes.slice(address, end < 0 ? bytes.length : end));
}

const inNode = typeof process !== 'undefined' && Boolean(process.versions?.node);

// Bytes of a wasm file: a URL (or a path relative to the page, in a browser)
// is fetched, or read from disk in Node for file: URLs.
async function readWasm(source) {
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return source;
  const url = source instanceof URL ? source : new URL(source, globalThis.location?.href);
  if (inNode && url.protocol === 'file:') {
    const { readFile } = await import('node:fs/promises');
    return readFile(url);
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.arrayBuffer();
}

// A module built with -DMALLOC0_DEBUG that exports malloc0_trap_reason: each
// of its functions, called through heap.exports, turns malloc0's traps into
// an Error that says which function rejected what.
function explainTraps(exports, memory) {
  const reason = exports.malloc0_trap_reason;
  if (!reason) return exports;
  const explained = (name, call) => (...args) => {
    try {
      return call(...args);
    } catch (error) {
      const at = error instanceof WebAssembly.RuntimeError ? Number(reason()) : 0;
      if (!at) throw error;
      throw new Error(`malloc0 trapped in ${name}(): ${readCString(memory, at)}`, { cause: error });
    }
  };
  return Object.fromEntries(Object.entries(exports).map(([name, value]) =>
    [name, typeof value === 'function' && value !== reason ? explained(name, value) : value]));
}

// Loads a wasm module linked with malloc0 (exporting memory, malloc and
// free) and returns a Heap over it.
export async function loadWasm(source, imports = {}) {
  const { instance } = await WebAssembly.instantiate(await readWasm(source), imports);
  return new Heap(instance.exports);
}

export class Heap {
  constructor(exports) {
    this.exports = explainTraps(exports, exports.memory);
    this.memory = exports.memory;
  }

  // Bytes of wasm memory: a new view, valid until the next call into wasm.
  bytes() {
    return new Uint8Array(this.memory.buffer);
  }

  // A view of length elements of Type at address: valid until the next call.
  view(Type, address, length) {
    return new Type(this.memory.buffer, address, length);
  }

  malloc(bytes) {
    const address = this.exports.malloc(bytes) >>> 0;
    if (!address) throw new Error(`malloc(${bytes}): out of memory`);
    return address;
  }

  free(address) {
    this.exports.free(address);
  }

  // Copies a typed array into a new block; returns its address.
  copyIn(array) {
    const address = this.malloc(array.byteLength);
    this.bytes().set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), address);
    return address;
  }

  // Copies length elements of Type at address out of wasm memory.
  copyOut(address, length, Type = Uint8Array) {
    return this.view(Type, address, length).slice();
  }

  // A NUL-terminated UTF-8 copy of text in a new block; returns its address.
  putString(text) {
    const encoded = encoder.encode(text);
    const address = this.malloc(encoded.length + 1);
    const bytes = this.bytes();
    bytes.set(encoded, address);
    bytes[address + encoded.length] = 0;
    return address;
  }

  // The NUL-terminated UTF-8 string at address.
  getString(address) {
    return readCString(this.memory, address);
  }

  // Linear memory size in bytes: what the page shows, and tests watch.
  get memoryBytes() {
    return this.memory.buffer.byteLength;
  }
}
