// Calls str_toggle.wasm: copy a string into wasm memory with malloc, toggle
// it in place, copy it back out, free it. Works in Node and in a browser.
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function loadToggle(wasmBytes) {
  const { instance } = await WebAssembly.instantiate(wasmBytes);
  const { memory, malloc, free, str_toggle } = instance.exports;
  return function toggle(text) {
    const bytes = encoder.encode(text);
    const ptr = malloc(bytes.length + 1);
    if (!ptr) throw new Error('out of memory');
    // Views are made after malloc: growing memory detaches older ones.
    const heap = new Uint8Array(memory.buffer);
    heap.set(bytes, ptr);
    heap[ptr + bytes.length] = 0;
    str_toggle(ptr);
    const out = decoder.decode(new Uint8Array(memory.buffer, ptr, bytes.length));
    free(ptr);
    return out;
  };
}
