// Reading the README as its tests and make bench need it: its code blocks,
// the commands in them, the tables it copies from bench/RESULTS.md, and the
// output of make demo that its quick start shows; and malloc0.h's comments,
// for the figures they give.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const README = new URL('../../README.md', import.meta.url);
export const RESULTS = new URL('../../bench/RESULTS.md', import.meta.url);
export const HEADER = new URL('../../malloc0.h', import.meta.url);
export const read = (url) => readFileSync(url, 'utf8');

// malloc0.h's comments as prose: the " * " that starts each comment line
// becomes a space, so that a phrase reads the same wherever a line breaks.
export const headerProse = () => read(HEADER).replace(/\n \*\s*/g, ' ');

// The fenced code blocks of a markdown text, in order: their language, body,
// and the prose between the previous block and this one.
export function fences(text) {
  const blocks = [];
  const pattern = /^```(\w*)\n([\s\S]*?)^```$/gm;
  let end = 0;
  for (const match of text.matchAll(pattern)) {
    blocks.push({ lang: match[1], body: match[2], before: text.slice(end, match.index) });
    end = match.index + match[0].length;
  }
  return blocks;
}

// The text of one section: from its heading to the next heading of its level.
export function section(text, heading) {
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README: no section "${heading}"`);
  const level = heading.match(/^#+ /)[0];
  const next = text.indexOf(`\n${level}`, start + heading.length + 2);
  return text.slice(start, next < 0 ? text.length : next);
}

// The commands of a shell block, continuation lines joined, each with the
// comment line before it as its label.
export function commands(body) {
  const result = [];
  let label = '';
  for (const line of body.replace(/\\\n\s*/g, '').split('\n')) {
    if (line.startsWith('#')) label = line.replace(/^#\s*/, '');
    else if (line.trim()) result.push({ label, command: line.replace(/\s+#.*$/, '').trim() });
  }
  return result;
}

// A markdown table: the lines starting with "|" from the first at or after
// index.
function tableAt(lines, index) {
  let i = index;
  while (i < lines.length && !lines[i].startsWith('|')) i++;
  let j = i;
  while (j < lines.length && lines[j].startsWith('|')) j++;
  return { start: i, end: j, table: lines.slice(i, j).join('\n') };
}

// The table under the title in bench/RESULTS.md that starts with key.
export function resultsTable(results, key) {
  const lines = results.split('\n');
  const title = lines.findIndex((line) => line.startsWith(key));
  if (title < 0) throw new Error(`bench/RESULTS.md: no table titled "${key}..."`);
  return tableAt(lines, title + 1).table;
}

// The README's copies: each table after a line <!-- bench/RESULTS.md: KEY -->.
const MARK = /^<!-- bench\/RESULTS\.md: (.+) -->$/;
export function copiedTables(readme) {
  const lines = readme.split('\n');
  return lines.flatMap((line, i) => {
    const match = MARK.exec(line);
    return match ? [{ key: match[1], ...tableAt(lines, i + 1) }] : [];
  });
}

// The README with each copied table replaced by the current one.
export function withCurrentTables(readme, results) {
  const lines = readme.split('\n');
  for (const { key, start, end } of copiedTables(readme).reverse()) {
    lines.splice(start, end - start, ...resultsTable(results, key).split('\n'));
  }
  return lines.join('\n');
}

// The output of make demo as the quick start shows it: the plain block after
// the line that says so.
export function demoOutput(readme) {
  const block = fences(readme).find((f) => f.lang === '' && f.before.includes('`make demo` prints:'));
  if (!block) throw new Error('README: no output of make demo');
  return block.body;
}

// What make demo prints, over the module it has built.
export const demoPrints = () => execFileSync(process.execPath,
  [new URL('../../examples/str_toggle/run.mjs', import.meta.url).pathname], { encoding: 'utf8' });

// The README with the output that make demo prints now.
export function withDemoOutput(readme, printed) {
  return readme.replace(`\`\`\`\n${demoOutput(readme)}\`\`\``, () => `\`\`\`\n${printed}\`\`\``);
}
