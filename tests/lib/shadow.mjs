// An independent model of the live blocks of a heap. It knows nothing of the
// allocator's layout: only what malloc returned, what was freed, and when
// marks were taken. Every block is filled with its own byte, checked intact
// when the block leaves; every new block must lie inside memory, be aligned,
// and overlap no live block.
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';

const filled = new Map(); // byte value -> a buffer of that byte, for comparisons
function reference(byte, length) {
  let buffer = filled.get(byte);
  if (!buffer || buffer.length < length) {
    buffer = Buffer.alloc(Math.max(length, 65536), byte);
    filled.set(byte, buffer);
  }
  return buffer.subarray(0, length);
}

export class Shadow {
  constructor(heap) {
    this.heap = heap;
    this.blocks = new Map(); // address -> { size, byte, serial }
    this.starts = []; // live addresses, sorted
    this.serial = 0; // counts allocations: marks are points in this count
    this.recent = []; // [address, serial] in allocation order; freed ones skipped lazily
    this.trace = []; // every address handed out, in order
  }

  get count() { return this.blocks.size; }

  // Index of the first live block starting at or after address.
  #lowerBound(address) {
    let low = 0;
    let high = this.starts.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (this.starts[mid] < address) low = mid + 1; else high = mid;
    }
    return low;
  }

  // With fill false the block is left as malloc handed it over, as a program
  // that does not write all of its block would; its content is not checked.
  malloc(size, { fill = true } = {}) {
    const p = this.heap.malloc(size);
    if (p !== 0) this.add(p, size, fill);
    return p;
  }

  // serial: the allocation count the block belongs to; a block resized in
  // place keeps its own (free_to_mark releases by it).
  add(p, size, fill = true, serial = ++this.serial) {
    const { align } = this.heap;
    const memoryEnd = this.heap.memory.buffer.byteLength;
    const span = Math.max(size, 1); // malloc(0) must still be unique
    assert.equal(p % align, 0, `block ${p} not aligned to ${align}`);
    assert.ok(p + span <= memoryEnd, `block ${p}+${size} beyond memory ${memoryEnd}`);
    const i = this.#lowerBound(p);
    if (i > 0) {
      const before = this.starts[i - 1];
      const end = before + Math.max(this.blocks.get(before).size, 1);
      assert.ok(end <= p, `block ${p} overlaps live block ${before}+${this.blocks.get(before).size}`);
    }
    if (i < this.starts.length) {
      assert.ok(p + span <= this.starts[i], `block ${p}+${size} overlaps live block ${this.starts[i]}`);
    }
    const byte = fill ? 1 + (serial % 255) : null;
    if (fill) this.heap.bytes().fill(byte, p, p + size);
    this.starts.splice(i, 0, p);
    this.blocks.set(p, { size, byte, serial });
    this.recent.push([p, serial]);
    this.trace.push(p);
  }

  verify(p) {
    const { size, byte } = this.blocks.get(p);
    if (byte === null) return;
    const content = Buffer.from(this.heap.memory.buffer, p, size);
    assert.ok(content.equals(reference(byte, size)), `block ${p}+${size} was overwritten`);
  }

  #forget(p) {
    this.verify(p);
    this.blocks.delete(p);
    this.starts.splice(this.#lowerBound(p), 1);
  }

  free(p) {
    this.#forget(p);
    this.heap.free(p);
  }

  // calloc: the block must read as zero before the model fills it.
  calloc(count, each) {
    const p = this.heap.calloc(count, each);
    if (p !== 0) {
      const n = count * each;
      const zero = Buffer.from(this.heap.memory.buffer, p, n);
      assert.ok(zero.equals(reference(0, n)), `calloc(${count}, ${each}) at ${p} is not zero`);
      this.add(p, n);
    }
    return p;
  }

  aligned(align, size) {
    const p = this.heap.alignedAlloc(align, size);
    if (p !== 0) {
      assert.equal(p % align, 0, `aligned_alloc(${align}) gave ${p}`);
      this.add(p, size);
    }
    return p;
  }

  // realloc: the first min(old, n) bytes survive, wherever the block goes;
  // on failure the old block is intact and still live.
  realloc(p, n) {
    const old = this.blocks.get(p);
    this.verify(p);
    const q = this.heap.realloc(p, n);
    if (q === 0) {
      this.verify(p);
      return 0;
    }
    const kept = Math.min(old.size, n);
    const content = Buffer.from(this.heap.memory.buffer, q, kept);
    assert.ok(old.byte === null || content.equals(reference(old.byte, kept)),
      `realloc(${p}, ${n}) -> ${q} lost the first ${kept} bytes`);
    this.blocks.delete(p);
    this.starts.splice(this.#lowerBound(p), 1);
    // An unwritten block stays unwritten: what it held, stale tags too, stays.
    if (q === p) this.add(q, n, old.byte !== null, old.serial);
    else this.add(q, n, old.byte !== null);
    return q;
  }

  // A point in time to reset to: the allocation count now.
  now() { return this.serial; }

  // Forgets (after checking) every block allocated after point.
  releaseAfter(point) {
    for (const [p, { serial }] of [...this.blocks]) {
      if (serial > point) this.#forget(p);
    }
  }

  verifyAll() {
    for (const p of this.starts) this.verify(p);
  }

  // The allocator's own figures must agree with the model.
  assertAgrees() {
    assert.ok(this.heap.check(), 'malloc0_check failed');
    const stats = this.heap.stats();
    let bytes = 0;
    for (const { size } of this.blocks.values()) bytes += this.heap.blockSize(size);
    assert.equal(stats.blocks_in_use, this.count, 'blocks in use');
    // malloc0.h: a block cut from a larger one may keep a rest too small to
    // be a block of its own (4 bytes, at MALLOC0_ALIGN 4 only).
    const slack = this.heap.align === 4 ? 4 : 0;
    assert.ok(stats.bytes_in_use >= bytes && stats.bytes_in_use <= bytes + slack * this.count,
      `bytes in use: ${stats.bytes_in_use}, blocks need ${bytes}`);
    assert.ok(stats.tail <= stats.memory_size || stats.memory_size === 0, 'tail inside memory');
  }

  randomLive(rng) {
    return this.starts[rng.below(this.starts.length)];
  }

  // The most recently allocated live block, or 0.
  newest() {
    while (this.recent.length) {
      const [p, serial] = this.recent[this.recent.length - 1];
      if (this.blocks.get(p)?.serial === serial) return p;
      this.recent.pop();
    }
    return 0;
  }
}
