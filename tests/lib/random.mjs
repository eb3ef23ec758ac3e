// A small seeded generator (mulberry32), so every run sees the same operations.
export function random(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    below: (n) => Math.floor(next() * n),
  };
}

// A random size from a mix: [share, largest] pairs, shares cumulative up to
// 1; a roll below a pair's share (and no earlier one's) takes a size from 0
// to its largest.
export function sizeFrom(rng, mix) {
  const roll = rng.next();
  return rng.below(mix.find(([share]) => roll < share)[1] + 1);
}
