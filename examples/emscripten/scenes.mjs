// Loads one build of scenes.c (examples/emscripten/build/NAME.js and .wasm),
// in Node or in a page, runs it (main, then scenes through exported
// functions), and resolves to the lines it printed and its module.
export async function runScenes(createScenes, wasmBinary) {
  const lines = [];
  const module = await createScenes({
    print: (line) => lines.push(line),
    printErr: (line) => lines.push(`stderr: ${line}`),
    ...(wasmBinary ? { wasmBinary } : {}), // in Node: no fetch of a file path
  });
  for (const blocks of [100, 1000, 5000]) {
    if (module._scene_load(blocks) !== blocks) lines.push('scene: out of memory');
    module._scene_end();
  }
  return { lines, module };
}
