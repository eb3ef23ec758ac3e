// Runs levels.wasm: a session of worlds and levels over malloc0's marks.
// Returns one row of heap figures per level, as C reports them.
import { loadWasm } from '../lib/malloc0.mjs';

export async function playLevels(source, worlds, levelsPerWorld) {
  const rows = [];
  const report = (world, level, inUse, blocks, tail, memory, marks, peak) =>
    rows.push({ world, level, inUse, blocks, tail: tail >>> 0, memory: memory >>> 0, marks, peak: peak >>> 0 });
  const heap = await loadWasm(source, { env: { report } });
  if (!heap.exports.play(worlds, levelsPerWorld)) throw new Error('out of memory');
  return rows;
}
