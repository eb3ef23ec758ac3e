// node examples/levels/run.mjs: plays 3 worlds of 5 levels, 200 frames each,
// and prints the heap after each level: the same figures every level,
// whatever it made; at the end, with every scope popped, an empty heap.
import { playLevels } from './levels.mjs';

const rows = await playLevels(new URL('./levels.wasm', import.meta.url), 3, 5);
console.log('world level  bytes in use  blocks   tail      memory  marks');
for (const r of rows) {
  const label = r.world ? `${String(r.world).padStart(5)} ${String(r.level).padStart(5)}` : '  end      ';
  console.log(`${label} ${String(r.inUse).padStart(13)} ${String(r.blocks).padStart(7)} ${String(r.tail).padStart(8)} ${String(r.memory).padStart(10)} ${String(r.marks).padStart(6)}`);
}
