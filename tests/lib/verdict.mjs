// The last lines of make test: the tests that failed, then the counts of
// every run that tests/lib/reporter.mjs recorded, added up. Exits 1 when a
// test failed or a run recorded nothing (it crashed before its end).
//   node tests/lib/verdict.mjs RUN.json ...
import { existsSync, readFileSync } from 'node:fs';

const totals = { passed: 0, failed: 0, skipped: 0 };
const missing = [];
const failures = [];
const LISTED = 20; // failed tests named again here; all are above
for (const path of process.argv.slice(2)) {
  if (!existsSync(path)) {
    missing.push(path);
    continue;
  }
  const run = JSON.parse(readFileSync(path, 'utf8'));
  for (const key of Object.keys(totals)) totals[key] += run[key];
  failures.push(...run.failures);
}
for (const failure of failures.slice(0, LISTED)) console.log(`failed: ${failure}`);
if (failures.length > LISTED) console.log(`failed: ... and ${failures.length - LISTED} more, above`);
for (const path of missing) console.log(`make test: the run that writes ${path} ended before its results`);
const failed = totals.failed + missing.length;
console.log(`${totals.passed} passed, ${failed} failed` + (totals.skipped ? `, ${totals.skipped} skipped` : ''));
process.exitCode = failed ? 1 : 0;
