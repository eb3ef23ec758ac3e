// make emscripten: runs the builds of scenes.c in Node (dlmalloc, emmalloc,
// malloc0 and its tiny profile), and of workers.c (-pthread: dlmalloc,
// emmalloc, malloc0), prints what each printed and its size, and checks that
// they agree.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { runScenes } from './scenes.mjs';

const require = createRequire(import.meta.url);
const dir = new URL('./build/', import.meta.url);
export const BUILDS = ['dlmalloc', 'emmalloc', 'malloc0', 'malloc0-tiny'];
export const WORKER_BUILDS = ['dlmalloc', 'emmalloc', 'malloc0'];

export async function runBuild(name) {
  const createScenes = require(new URL(`${name}.js`, dir).pathname);
  return runScenes(createScenes, readFileSync(new URL(`${name}.wasm`, dir)));
}

// The lines workers.c printed over an allocator, sorted: its threads print
// in the order they finish.
export function runWorkers(name) {
  const output = execFileSync(process.execPath, [new URL(`workers-${name}.js`, dir).pathname], { encoding: 'utf8' });
  return output.trim().split('\n').sort();
}

// How workers.c ended over an allocator when its threads' stacks fill
// memory that does not grow (the workers-oom builds): its exit status, and
// all it printed.
export function runWorkersOutOfMemory(name) {
  const { status, stdout, stderr } = spawnSync(process.execPath, [new URL(`workers-oom-${name}.js`, dir).pathname], { encoding: 'utf8' });
  return { status, output: stdout + stderr };
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const outputs = {};
  for (const name of BUILDS) {
    const { lines } = await runBuild(name);
    outputs[name] = lines.join('\n');
    console.log(`--- scenes over ${name}: ${statSync(new URL(`${name}.wasm`, dir)).size} bytes of wasm`);
    console.log(outputs[name]);
  }
  const workers = {};
  for (const name of WORKER_BUILDS) {
    workers[name] = runWorkers(name).join('\n');
    console.log(`--- workers (-pthread) over ${name}: ${statSync(new URL(`workers-${name}.wasm`, dir)).size} bytes of wasm`);
    console.log(workers[name]);
  }
  const same = BUILDS.every((name) => outputs[name] === outputs.dlmalloc) &&
    WORKER_BUILDS.every((name) => workers[name] === workers.dlmalloc);
  console.log(same ? `all ${BUILDS.length + WORKER_BUILDS.length} builds printed the same as over dlmalloc`
    : 'the builds printed different lines');
  process.exitCode = same ? 0 : 1;
}
