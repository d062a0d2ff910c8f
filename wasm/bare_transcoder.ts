/**
 * A yardstick, not a codec: the barest scalar CSV-to-COPY-text transcoder
 * in AssemblyScript (RFC 4180 quotes, `,` to tab, COPY text escapes, an
 * unquoted empty field as `\N`), with no record metadata, no lane keys, no
 * UTF-8 validation, no errors and no SIMD. `bench/codec_bench.ts` builds it
 * in memory and times it beside the codec, so the codec's speed can be
 * read as a share of what a transcoder reaches on the same machine.
 *
 * Memory: the input chunk at `INPUT` (up to `CHUNK` bytes), the output
 * after it. State carries from one chunk to the next.
 */

const CHUNK: i32 = 1 << 20;
const INPUT: usize = memory.data(CHUNK, 16);
const OUTPUT: usize = memory.data(CHUNK * 3, 16);

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_SEEN = 3;

let state: i32 = FIELD_START;

// 1 for the bytes that are data as they are in any state: all but the
// delimiter, the quote, line breaks, tab and backslash.
const PLAIN: usize = memory.data(256);
for (let b = 0; b < 256; b++) {
  const special = b == 0x2c || b == 0x22 || b == 0x0a || b == 0x0d ||
    b == 0x09 || b == 0x5c;
  store<u8>(PLAIN + <usize> b, special ? 0 : 1);
}

/** Where the caller puts each chunk. */
export function input(): usize {
  return INPUT;
}

/** Where each chunk's output starts. */
export function output(): usize {
  return OUTPUT;
}

/** Transcodes the `length` bytes at `input()`; returns the bytes written. */
export function transcode(length: i32): i32 {
  let out = OUTPUT;
  let st = state;
  for (let i = 0; i < length; i++) {
    let b = <i32> load<u8>(INPUT + <usize> i);
    if (st != QUOTE_SEEN && load<u8>(PLAIN + <usize> b)) {
      // A run of plain bytes, copied as it is.
      if (st == FIELD_START) st = UNQUOTED;
      do {
        store<u8>(out++, <u8> b);
        if (++i == length) break;
        b = <i32> load<u8>(INPUT + <usize> i);
      } while (load<u8>(PLAIN + <usize> b));
      if (i == length) break;
    }
    if (st == QUOTED) {
      if (b == 0x22) st = QUOTE_SEEN;
      else out = put(out, b);
      continue;
    }
    if (st == QUOTE_SEEN) {
      if (b == 0x22) {
        store<u8>(out++, b);
        st = QUOTED;
        continue;
      }
      st = UNQUOTED;
    }
    if (b == 0x2c) {
      if (st == FIELD_START) out = nullField(out);
      store<u8>(out++, 0x09);
      st = FIELD_START;
    } else if (b == 0x0a) {
      if (st == FIELD_START) out = nullField(out);
      store<u8>(out++, 0x0a);
      st = FIELD_START;
    } else if (b == 0x0d) {
      // The line feed after it ends the record.
    } else if (b == 0x22 && st == FIELD_START) {
      st = QUOTED;
    } else {
      out = put(out, b);
      st = UNQUOTED;
    }
  }
  state = st;
  return <i32> (out - OUTPUT);
}

function nullField(out: usize): usize {
  store<u8>(out, 0x5c);
  store<u8>(out + 1, 0x4e);
  return out + 2;
}

/** One byte of field data, escaped for COPY text. */
function put(out: usize, b: i32): usize {
  if (b == 0x5c || b == 0x09 || b == 0x0a || b == 0x0d) {
    store<u8>(out, 0x5c);
    store<u8>(
      out + 1,
      b == 0x09 ? 0x74 : b == 0x0a ? 0x6e : b == 0x0d ? 0x72 : 0x5c,
    );
    return out + 2;
  }
  store<u8>(out, <u8> b);
  return out + 1;
}
