// make emscripten: runs the builds of scenes.c in Node (dlmalloc, emmalloc,
// malloc0 and its tiny profile), prints what each printed and its size, and
// checks that they agree.
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { runScenes } from './scenes.mjs';

const require = createRequire(import.meta.url);
const dir = new URL('./build/', import.meta.url);
export const BUILDS = ['dlmalloc', 'emmalloc', 'malloc0', 'malloc0-tiny'];

export async function runBuild(name) {
  const createScenes = require(new URL(`${name}.js`, dir).pathname);
  return runScenes(createScenes, readFileSync(new URL(`${name}.wasm`, dir)));
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const outputs = {};
  for (const name of BUILDS) {
    const { lines } = await runBuild(name);
    outputs[name] = lines.join('\n');
    console.log(`--- scenes over ${name}: ${statSync(new URL(`${name}.wasm`, dir)).size} bytes of wasm`);
    console.log(outputs[name]);
  }
  const same = BUILDS.every((name) => outputs[name] === outputs.dlmalloc);
  console.log(same ? `all ${BUILDS.length} builds printed the same` : 'the builds printed different lines');
  process.exitCode = same ? 0 : 1;
}
