// Histogram equalization written again, independently of the C code in
// examples/histogram:
// per colour channel, value v maps to round(255 * (cdf(v) - cdf(low)) /
// (pixels - cdf(low))), where low is the smallest value present.
export function referenceEqualize(rgba) {
  const out = Uint8ClampedArray.from(rgba);
  const pixels = rgba.length / 4;
  for (let channel = 0; channel < 3; channel++) {
    const cdf = new Array(256).fill(0);
    for (let i = channel; i < rgba.length; i += 4) cdf[rgba[i]]++;
    for (let v = 1; v < 256; v++) cdf[v] += cdf[v - 1];
    const low = cdf.findIndex((count) => count > 0);
    const span = pixels - cdf[low];
    for (let i = channel; i < rgba.length; i += 4) {
      const below = cdf[rgba[i]] - cdf[low];
      out[i] = span ? Math.floor((below * 255 + Math.floor(span / 2)) / span) : rgba[i];
    }
  }
  return out;
}
