// A reporter for node --test that keeps the output short: a line as each
// test file starts, every failure in full, a line per file and per skip
// reason at the end, and the counts. With MALLOC0_TEST_RESULTS set, it also
// writes the counts there as JSON, for tests/lib/verdict.mjs to add up.
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { inspect } from 'node:util';

const where = (file) => (file ? relative(process.cwd(), file) : '(no file)');

function describeFailure({ name, file, details }) {
  const error = details.error?.cause ?? details.error;
  const text = error?.stack ?? inspect(error, { depth: 4 });
  const indented = text.split('\n').map((line) => `    ${line}`).join('\n');
  return `FAILED ${where(file)} > ${name}\n${indented}\n`;
}

export default async function* report(source) {
  const files = new Map(); // file -> { passed, failed, skipped }
  const reasons = new Map(); // skip reason -> count
  const totals = { passed: 0, failed: 0, skipped: 0 };
  const failures = []; // "file > name" of each failed test
  for await (const { type, data } of source) {
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    // A suite, or a test failed only by its subtests, is counted in them.
    if (data.details?.type === 'suite' || data.details?.error?.failureType === 'subtestsFailed') continue;
    const file = where(data.file);
    if (!files.has(file)) {
      files.set(file, { passed: 0, failed: 0, skipped: 0 });
      yield `running ${file}\n`;
    }
    let outcome = 'passed';
    if (type === 'test:fail') outcome = 'failed';
    else if (data.skip !== undefined) outcome = 'skipped';
    files.get(file)[outcome]++;
    totals[outcome]++;
    if (outcome === 'failed') {
      failures.push(`${file} > ${data.name}`);
      yield describeFailure(data);
    }
    if (outcome === 'skipped') {
      const reason = typeof data.skip === 'string' ? data.skip : 'no reason given';
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
  }
  const line = (counts) => `${counts.passed} passed, ${counts.failed} failed` +
    (counts.skipped ? `, ${counts.skipped} skipped` : '');
  yield '\n';
  for (const [file, counts] of files) yield `${file}: ${line(counts)}\n`;
  for (const [reason, count] of reasons) yield `skipped ${count}: ${reason}\n`;
  yield `${line(totals)}\n`;
  if (process.env.MALLOC0_TEST_RESULTS) {
    writeFileSync(process.env.MALLOC0_TEST_RESULTS, JSON.stringify({ ...totals, failures, reasons: [...reasons] }));
  }
}
