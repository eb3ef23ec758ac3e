// Equalizes RGBA images with histogram.wasm, in Node or a browser: copy the
// pixels in with malloc, equalize in C, copy them out, then free_all, which
// releases the pixels and every table C allocated in one call.
import { loadWasm } from '../lib/malloc0.mjs';

export async function loadEqualizer(source) {
  const heap = await loadWasm(source);
  function equalize(rgba) {
    const address = heap.copyIn(rgba);
    const ok = heap.exports.equalize(address, rgba.length / 4);
    const result = ok ? heap.copyOut(address, rgba.length, Uint8ClampedArray) : null;
    heap.exports.free_all();
    if (!result) throw new Error('out of memory');
    return result;
  }
  equalize.heap = heap;
  return equalize;
}

// A test image drawn in code (nothing is downloaded): low-contrast bands
// and discs, the kind of picture equalization brightens.
export function testImage(width, height, seed = 1) {
  const rgba = new Uint8ClampedArray(width * height * 4);
  let state = seed >>> 0 || 1;
  const random = () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 8) / 16777216;
  const discs = Array.from({ length: 6 }, () => [random() * width, random() * height, 10 + random() * width / 4, random()]);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let shade = 0.4 + 0.15 * (x / width) + 0.05 * Math.sin(y / 9);
      for (const [cx, cy, r, tone] of discs) if ((x - cx) ** 2 + (y - cy) ** 2 < r * r) shade += 0.08 * tone;
      const at = (y * width + x) * 4;
      rgba[at] = 255 * shade;
      rgba[at + 1] = 255 * (shade * 0.9 + 0.05);
      rgba[at + 2] = 255 * (0.6 - shade * 0.3);
      rgba[at + 3] = 255;
    }
  }
  return rgba;
}
