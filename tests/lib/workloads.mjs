// The memory workloads the benchmarks also run, driven through the shadow
// model: each returns the peak of live bytes (requested sizes) and the
// number of live blocks at that peak.

function tracker(shadow) {
  let live = 0;
  let peak = { bytes: 0, blocks: 0 };
  const sizes = new Map();
  return {
    malloc(size) {
      const p = shadow.malloc(size);
      if (!p) throw new Error(`malloc(${size}) returned NULL`);
      sizes.set(p, size);
      live += size;
      if (live > peak.bytes) peak = { bytes: live, blocks: sizes.size };
      return p;
    },
    free(p) {
      live -= sizes.get(p);
      sizes.delete(p);
      shadow.free(p);
    },
    get peak() { return peak; },
  };
}

// A queue of `live` blocks of 1-512 bytes: the oldest is freed first.
export function fifo(shadow, rng, { live = 1000, operations = 20000 } = {}) {
  const t = tracker(shadow);
  const queue = [];
  for (let i = 0; i < operations; i++) {
    queue.push(t.malloc(1 + rng.below(512)));
    if (queue.length > live) t.free(queue.shift());
  }
  return t.peak;
}

// `live` blocks of 8-64 bytes; each step frees a random one and allocates.
export function steady(shadow, rng, { live = 10000, operations = 50000 } = {}) {
  const t = tracker(shadow);
  const blocks = [];
  for (let i = 0; i < live; i++) blocks.push(t.malloc(8 + rng.below(57)));
  for (let i = 0; i < operations; i++) {
    const j = rng.below(blocks.length);
    t.free(blocks[j]);
    blocks[j] = t.malloc(8 + rng.below(57));
  }
  return t.peak;
}

// One allocation in 64 lives forever; the others die soon, in random order.
export function churn(shadow, rng, { operations = 50000, shortLived = 64 } = {}) {
  const t = tracker(shadow);
  const young = [];
  for (let i = 0; i < operations; i++) {
    const p = t.malloc(1 + rng.below(256));
    if (i % 64 === 0) continue; // lives forever
    young.push(p);
    if (young.length > shortLived) {
      const j = rng.below(young.length);
      t.free(young[j]);
      young[j] = young[young.length - 1];
      young.pop();
    }
  }
  return t.peak;
}
