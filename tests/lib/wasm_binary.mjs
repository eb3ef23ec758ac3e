// Reads the sections of a wasm binary: enough to find the code section's
// size and the function names in the "name" custom section.

// A reader over bytes: leb() reads an unsigned LEB128 number.
function reader(bytes, at = 0) {
  return {
    get at() { return at; },
    set at(value) { at = value; },
    byte: () => bytes[at++],
    leb() {
      let value = 0;
      for (let shift = 0; ; shift += 7) {
        const byte = bytes[at++];
        value += (byte & 0x7f) * 2 ** shift;
        if (byte < 0x80) return value;
      }
    },
    text(length) {
      const value = Buffer.from(bytes.subarray(at, at + length)).toString();
      at += length;
      return value;
    },
  };
}

// Every section after the 8-byte preamble: { id, start, end }.
export function* sections(bytes) {
  const r = reader(bytes, 8);
  while (r.at < bytes.length) {
    const id = r.byte();
    const size = r.leb();
    yield { id, start: r.at, end: r.at + size };
    r.at += size;
  }
}

const CODE = 10;
const DATA = 11;
const CUSTOM = 0;
const FUNCTION_NAMES = 1;

function sectionBytes(bytes, wanted) {
  for (const { id, start, end } of sections(bytes)) if (id === wanted) return end - start;
  return 0;
}

export const codeSectionBytes = (bytes) => sectionBytes(bytes, CODE);
export const dataSectionBytes = (bytes) => sectionBytes(bytes, DATA);

export function functionNames(bytes) {
  const names = [];
  for (const { id, start, end } of sections(bytes)) {
    if (id !== CUSTOM) continue;
    const r = reader(bytes, start);
    if (r.text(r.leb()) !== 'name') continue;
    while (r.at < end) {
      const kind = r.byte();
      const subsectionEnd = r.leb() + r.at;
      if (kind === FUNCTION_NAMES) {
        for (let count = r.leb(); count > 0; count--) {
          r.leb();
          names.push(r.text(r.leb()));
        }
      }
      r.at = subsectionEnd;
    }
  }
  return names;
}
