// node examples/histogram/run.mjs: equalizes generated images in Node and
// prints each channel's range before and after, and the wasm memory size.
import { loadEqualizer, testImage } from './histogram.mjs';

const equalize = await loadEqualizer(new URL('./histogram.wasm', import.meta.url));
const range = (rgba, channel) => {
  let low = 255;
  let high = 0;
  for (let i = channel; i < rgba.length; i += 4) { low = Math.min(low, rgba[i]); high = Math.max(high, rgba[i]); }
  return `${low}-${high}`;
};
for (let image = 1; image <= 3; image++) {
  const before = testImage(320, 200, image);
  const after = equalize(before);
  const ranges = (rgba) => [0, 1, 2].map((c) => range(rgba, c)).join(' ');
  console.log(`image ${image}: channel ranges ${ranges(before)} -> ${ranges(after)}, wasm memory ${equalize.heap.memoryBytes} bytes`);
}
