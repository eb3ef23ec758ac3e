// Calls str_toggle.wasm: copy a string into wasm memory with malloc, toggle
// it in place, copy it back out, free it. Works in Node and in a browser.
import { loadWasm } from '../lib/malloc0.mjs';

export async function loadToggle(source) {
  const heap = await loadWasm(source);
  function toggle(text) {
    const address = heap.putString(text);
    heap.exports.str_toggle(address);
    const out = heap.getString(address);
    heap.free(address);
    return out;
  }
  toggle.heap = heap;
  return toggle;
}
