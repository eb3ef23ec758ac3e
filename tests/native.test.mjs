// The native builds (Makefile: NATIVE_TESTS): the shadow model in C over
// every profile and alignment, under sanitizers and gcc, and one build under
// valgrind. make test and make native-test name the binaries in
// MALLOC0_NATIVE_TESTS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { basename } from 'node:path';
import { availableParallelism } from 'node:os';

const execFileAsync = promisify(execFile);
const binaries = (process.env.MALLOC0_NATIVE_TESTS ?? '').split(/\s+/).filter(Boolean);
const notBuilt = binaries.length ? false : 'the native tests run through make test or make native-test, which build them';
// Valgrind runs the gcc build of the default profile, over 2 of its seeds.
const VALGRIND_BUILD = 'random_ops-gcc-default-a16';
const VALGRIND_SEEDS = '2';
// The gcc builds, which have no sanitizer to report the reads a corrupted
// link leads to, also attack the heap (tests/native/model.c), over the
// default number of seeds.
const ATTACKS = ['6', 'attacks'];

async function run(command, args) {
  try {
    await execFileAsync(command, args, { maxBuffer: 1 << 26 });
  } catch (error) {
    assert.fail(`${command} ${args.join(' ')} exited with ${error.code}:\n${error.stdout}${error.stderr}`.slice(-4000));
  }
}

// One binary per core at a time.
test('native builds: the shadow model', { skip: notBuilt, concurrency: availableParallelism() }, async (t) => {
  await Promise.all(binaries.map((binary) => t.test(basename(binary),
    () => run(binary, basename(binary).includes('-gcc-') ? ATTACKS : []))));
});

test('native build under valgrind memcheck', { skip: notBuilt }, async () => {
  const binary = binaries.find((b) => basename(b) === VALGRIND_BUILD);
  assert.ok(binary, `${VALGRIND_BUILD} is among the native tests`);
  await run('valgrind', ['-q', '--error-exitcode=1', '--leak-check=full', binary, VALGRIND_SEEDS]);
});
