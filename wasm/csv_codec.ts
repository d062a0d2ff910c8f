/**
 * The CSV-to-COPY frame core, in AssemblyScript: frames the records of one
 * input chunk and encodes them as COPY rows, in one call, writing the rows
 * and their metadata into linear memory. `src/codec/csv/_csv_core.ts` is its
 * TypeScript twin, function for function; `src/codec/csv/_csv_codec_base.ts` drives
 * either one (BOM, header, lane keys, errors as exceptions, totals).
 *
 * Memory (addresses from `layout`):
 * - registers: 16 i32 the caller reads after each call (`REG_*` below);
 * - metadata: for each row of the call, 6 i32 arrays of ROW_CAPACITY
 *   entries (row end in the output, source line and end offset relative to
 *   the chunk, lane key start and end in the output, lane key hash);
 * - the keep mask: a byte per field, 0 for a field the rows leave out
 *   (used once `setKeep` turns it on);
 * - the encoded null string, then the output, then the input chunk (the
 *   caller places it and grows memory as needed).
 *
 * Offsets and lines are relative to the chunk: the caller keeps the
 * totals. The only difference from the twin: runs of plain bytes are
 * scanned 16 at a time with SIMD.
 */

// Defined once for both cores (the TypeScript twin imports them too).
import {
  BACKSLASH,
  CARRIAGE_RETURN,
  CHARSET_EUC_JP,
  CHARSET_SINGLE_BYTE,
  CHARSET_UTF8,
  COMMA,
  CR,
  CR_SEEN,
  DELIMITER,
  DQUOTE,
  E_AFTER_CLOSING_QUOTE,
  E_INVALID_UTF8,
  E_NUL_BYTE,
  E_NULL_LANE,
  E_QUOTE_IN_UNQUOTED,
  E_TOO_FEW_FIELDS,
  E_TOO_MANY_FIELDS,
  E_UNCLOSED_QUOTE,
  ENCODE,
  ESCAPE,
  ESCAPE_SEEN,
  FIELD_START,
  KEEP_CAPACITY,
  LF,
  LINE_FEED,
  META_END,
  META_LANE_END,
  META_LANE_HASH,
  META_LANE_START,
  META_LINE,
  META_ROW_END,
  PLAIN,
  QUOTE,
  QUOTE_SEEN,
  QUOTED,
  REG_ERROR,
  REG_ERROR_ARG1,
  REG_ERROR_ARG2,
  REG_ERROR_COLUMN,
  REG_ERROR_LINE,
  REG_ERROR_OFFSET,
  REG_LINES,
  REG_POS,
  REG_RECORD_START,
  REG_REJECT,
  REG_REJECT_END,
  REG_REJECT_LINE,
  REG_REJECT_LINES,
  REG_REJECT_START,
  REG_ROWS,
  ROW_CAPACITY,
  SKIP,
  SKIP_CR,
  SKIP_ESCAPE,
  SKIP_FIELD_START,
  SKIP_QUOTE_SEEN,
  SKIP_QUOTED,
  SKIP_UNQUOTED,
  TAB,
  UNQUOTED,
} from "../src/codec/csv/_csv_constants.ts";

const REG: usize = memory.data(64, 16);
const UNQUOTED_CLASS: usize = memory.data(256, 16);
const QUOTED_CLASS: usize = memory.data(256, 16);
const META: usize = memory.data(ROW_CAPACITY * 24, 16);
const KEEP: usize = memory.data(KEEP_CAPACITY, 16);
const NULLS: usize = (__heap_base + 15) & ~(<usize> 15);

// Configuration.
let delimiter: i32 = COMMA;
let quote: i32 = DQUOTE;
let escape: i32 = DQUOTE;
let csvOut: bool = false;
let outDelimiter: i32 = TAB;
let nullLength: i32 = -1;
let nullCodePoints: i32 = 0;
let expected: i32 = 0;
let laneField: i32 = -1;
// The keep mask: with `masked`, field k is written when byte k of KEEP is 1.
let masked: bool = false;
let charset: i32 = CHARSET_UTF8;
let utf8: bool = true;
let rejecting: bool = false;
let OUT: usize = 0;
// The quote as the output writes it: up to two bytes, little-endian.
let quoteCode: i32 = DQUOTE;
let quoteLength: i32 = 1;

// The chunk.
let input: usize = 0;
let size: i32 = 0;
let limit: i32 = 0;
let invalid: bool = false;
let last: bool = false;

// UTF-8 validation carried across chunks.
let utf8Need: i32 = 0;
let utf8Low: i32 = 0x80;
let utf8High: i32 = 0xbf;
let utf8Back: i32 = 0;

// Output.
let pos: i32 = 0;
let recordStart: i32 = 0;
let fieldStart: i32 = 0;
let rows: i32 = 0;

// Framing.
let state: i32 = FIELD_START;
let fieldQuoted: bool = false;
let fieldEmpty: bool = false;
let fields: i32 = 0;
let line: i32 = 0;
let recordLine: i32 = 0;
// The input byte where the record in progress starts.
let recordOffset: i32 = 0;
let quoteLine: i32 = 0;
let quoteColumn: i32 = 0;
let quoteOffset: i32 = 0;
let quoteColumnIndex: i32 = 0;
let quoteColumnCount: i32 = 0;
let laneStart: i32 = 0;
let laneEnd: i32 = 0;
let laneHash: i32 = 0;
let laneNull: bool = false;
let laneNullLine: i32 = 0;
let laneNullColumn: i32 = 0;
let laneNullOffset: i32 = 0;

// Column cursor: `colCount` code points of the current line precede
// input byte `colIndex`.
let colIndex: i32 = 0;
let colCount: i32 = 0;

/**
 * Where a region starts: 0 registers, 1 metadata, 2 null string, 3 output
 * (valid after `configure`), 4 the keep mask (KEEP_CAPACITY bytes).
 */
export function layout(region: i32): usize {
  if (region == 0) return REG;
  if (region == 1) return META;
  if (region == 2) return NULLS;
  if (region == 4) return KEEP;
  return OUT;
}

/**
 * Sets the dialect. The encoded null string (`nullBytes` bytes, or -1 for
 * "an unquoted empty field") must already be at `layout(2)`. `inputCharset`
 * (`CHARSET_*` of the twin): UTF-8 is validated (a NUL byte is refused in
 * every charset), and each charset counts columns in its own characters;
 * `rejects`: skip malformed records instead of stopping.
 */
export function configure(
  delimiterByte: i32,
  quoteByte: i32,
  escapeByte: i32,
  csv: bool,
  nullBytes: i32,
  nullChars: i32,
  fieldCount: i32,
  lane: i32,
  inputCharset: i32,
  rejects: bool,
): void {
  charset = inputCharset;
  utf8 = inputCharset == CHARSET_UTF8;
  rejecting = rejects;
  delimiter = delimiterByte;
  quote = quoteByte;
  escape = escapeByte;
  csvOut = csv;
  outDelimiter = csv ? COMMA : TAB;
  nullLength = nullBytes;
  nullCodePoints = nullChars;
  expected = fieldCount;
  laneField = lane;
  OUT = (NULLS + <usize> max(nullBytes, 0) + 15) & ~(<usize> 15);
  quoteCode = quoteByte;
  quoteLength = 1;
  if (csv ? quoteByte == DQUOTE : quoteByte == BACKSLASH) {
    quoteCode = quoteByte | (quoteByte << 8);
    quoteLength = 2;
  } else if (!csv && quoteByte == TAB) {
    quoteCode = BACKSLASH | (0x74 << 8); // \t
    quoteLength = 2;
  }
  for (let b = 0; b < 256; b++) {
    store<u8>(UNQUOTED_CLASS + b, unquotedClass(b));
    store<u8>(QUOTED_CLASS + b, quotedClass(b));
  }
}

function needsEncoding(b: i32, quoted: bool): bool {
  if (csvOut) return b == DQUOTE;
  return b == BACKSLASH || b == TAB || (quoted && b == CR);
}

function unquotedClass(b: i32): i32 {
  if (b == delimiter) return DELIMITER;
  if (b == quote) return QUOTE;
  if (b == LF) return LINE_FEED;
  if (b == CR) return CARRIAGE_RETURN;
  return needsEncoding(b, false) ? ENCODE : PLAIN;
}

function quotedClass(b: i32): i32 {
  if (b == quote) return QUOTE;
  if (b == escape) return ESCAPE;
  if (b == LF) return LINE_FEED;
  return needsEncoding(b, true) ? ENCODE : PLAIN;
}

/** The lane column's field index, once the header has named it. */
export function setLaneField(lane: i32): void {
  laneField = lane;
}

/**
 * Turns the keep mask on, once the header is read: its bytes (one per
 * field, 0 for a field the rows leave out) must already be at `layout(4)`.
 */
export function setKeep(): void {
  masked = true;
}

/**
 * Takes the next chunk, `length` bytes at `at`, and validates it as UTF-8
 * (other charsets: finds its first NUL): framing stops at the first
 * invalid character. In the `final` chunk, a character cut off at the end
 * is invalid too.
 */
export function begin(at: usize, length: i32, final: bool): void {
  input = at;
  last = final;
  size = length;
  limit = length;
  invalid = false;
  colIndex = 0;
  if (!utf8) {
    findNul(0);
    return;
  }
  let i = 0;
  if (utf8Need > 0) {
    i = utf8Rest(0, -utf8Back, utf8Need, utf8Low, utf8High);
    if (invalid) return;
  }
  // The loop of validate, kept here: the hot path, as one function.
  while (i < length) {
    // Skip ASCII but NUL 16 bytes at a time (a NUL stops validation like
    // an invalid character: PostgreSQL text cannot hold one).
    while (i + 16 <= length) {
      const bytes = v128.load(input + <usize> i);
      const bits = i8x16.bitmask(
        v128.or(bytes, i8x16.eq(bytes, i8x16.splat(0))),
      );
      if (bits != 0) {
        i += ctz<i32>(bits);
        break;
      }
      i += 16;
    }
    if (i >= length) break;
    const b = load<u8>(input + <usize> i);
    if (b < 0x80 && b != 0) {
      i++;
      continue;
    }
    i = utf8Char(i);
    if (invalid) return;
  }
}

/**
 * Validates the chunk as UTF-8 (other charsets: looks for a NUL) from
 * byte `from`, after a malformed record that held the invalid character:
 * framing stops at the next one.
 */
function validate(from: i32): void {
  if (!utf8) {
    findNul(from);
    return;
  }
  const length = size;
  let i = from;
  while (i < length) {
    // Skip ASCII but NUL 16 bytes at a time (a NUL stops validation like
    // an invalid character: PostgreSQL text cannot hold one).
    while (i + 16 <= length) {
      const bytes = v128.load(input + <usize> i);
      const bits = i8x16.bitmask(
        v128.or(bytes, i8x16.eq(bytes, i8x16.splat(0))),
      );
      if (bits != 0) {
        i += ctz<i32>(bits);
        break;
      }
      i += 16;
    }
    if (i >= length) break;
    const b = load<u8>(input + <usize> i);
    if (b < 0x80 && b != 0) {
      i++;
      continue;
    }
    i = utf8Char(i);
    if (invalid) return;
  }
}

/**
 * Outside UTF-8 (not validated) only a NUL is invalid, in every encoding
 * the codec reads: framing stops at the first from byte `from`.
 */
function findNul(from: i32): void {
  const length = size;
  let i = from;
  while (i + 16 <= length) {
    const bits = i8x16.bitmask(
      i8x16.eq(v128.load(input + <usize> i), i8x16.splat(0)),
    );
    if (bits != 0) {
      fail(i + ctz<i32>(bits));
      return;
    }
    i += 16;
  }
  for (; i < length; i++) {
    if (load<u8>(input + <usize> i) == 0) {
      fail(i);
      return;
    }
  }
}

/**
 * Validates the character whose lead byte (not ASCII) is at `i`. Returns
 * the index after it; an invalid one sets `invalid` and `limit`.
 */
function utf8Char(i: i32): i32 {
  const b = <i32> load<u8>(input + <usize> i);
  let need = 0;
  let low = 0x80;
  let high = 0xbf;
  if (b < 0xc2) {
    fail(i);
    return i;
  } else if (b < 0xe0) {
    need = 1;
  } else if (b < 0xf0) {
    need = 2;
    if (b == 0xe0) low = 0xa0;
    if (b == 0xed) high = 0x9f;
  } else if (b < 0xf5) {
    need = 3;
    if (b == 0xf0) low = 0x90;
    if (b == 0xf4) high = 0x8f;
  } else {
    fail(i);
    return i;
  }
  return utf8Rest(i + 1, i, need, low, high);
}

/**
 * Checks the continuation bytes from `i` of the character whose lead byte
 * is at `lead`; keeps what is missing for the next chunk.
 */
function utf8Rest(i: i32, lead: i32, need: i32, low: i32, high: i32): i32 {
  while (need > 0) {
    if (i == size) {
      if (last) {
        fail(lead);
        return i;
      }
      utf8Need = need;
      utf8Low = low;
      utf8High = high;
      utf8Back = i - lead;
      return i;
    }
    const c = <i32> load<u8>(input + <usize> i);
    if (c < low || c > high) {
      fail(lead);
      return i;
    }
    i++;
    need--;
    low = 0x80;
    high = 0xbf;
  }
  utf8Need = 0;
  return i;
}

function fail(lead: i32): void {
  invalid = true;
  limit = lead;
  utf8Need = 0;
}

/**
 * Frames the chunk from byte `from`, until its end or until `maxRows` rows
 * are complete. Returns where it stopped, or -1 on an error (registers say
 * which; the rows before it are complete).
 */
export function frame(from: i32, maxRows: i32): i32 {
  rows = 0;
  setRegister(REG_ERROR, 0);
  setRegister(REG_REJECT, 0);
  setRegister(REG_REJECT_END, -1);
  if (state >= SKIP) {
    // A malformed record goes on from the chunk before: skip to its end.
    const next = skip(from);
    sync();
    return next < 0 ? size : next;
  }
  const end = limit;
  const csv = csvOut;
  const q = quote;
  const inp = input;
  const out = OUT;
  const qCode = <u16> quoteCode;
  const qLength = quoteLength;
  const mask = masked;
  // The per-field state lives in locals, written back when the call ends.
  let i = from;
  let st = state;
  let p = pos;
  let start = fieldStart;
  let quoted = fieldQuoted;
  let count = fields;
  let result = -2; // still running
  // The bytes that end a run of plain ones, in each state.
  const e1 = i8x16.splat(<i8> (csv ? DQUOTE : BACKSLASH));
  const e2 = i8x16.splat(<i8> (csv ? DQUOTE : TAB));
  const e3 = i8x16.splat(<i8> (csv ? DQUOTE : CR));
  const vDelimiter = i8x16.splat(<i8> delimiter);
  const vQuote = i8x16.splat(<i8> q);
  const vEscape = i8x16.splat(<i8> escape);
  const vLF = i8x16.splat(<i8> LF);
  const vCR = i8x16.splat(<i8> CR);
  while (i < end) {
    let b = <i32> load<u8>(inp + <usize> i);
    if (st == FIELD_START) {
      start = p;
      if (csv) {
        store<u8>(out + <usize> p, DQUOTE);
        p++;
      }
      if (b == q) {
        quoted = true;
        openQuote(i);
        st = QUOTED;
        i++;
      } else {
        quoted = false;
        st = UNQUOTED;
      }
    }
    // The class of the byte that ends the field at `i`, if one does.
    let term = 0;
    if (st == QUOTED) {
      // Copy up to the closing quote; doubled quotes and escapes in place.
      for (;;) {
        let found = false;
        while (i + 16 <= end) {
          const v = v128.load(inp + <usize> i);
          v128.store(out + <usize> p, v);
          const bits = i8x16.bitmask(v128.or(
            v128.or(i8x16.eq(v, vQuote), i8x16.eq(v, vEscape)),
            v128.or(
              v128.or(i8x16.eq(v, vLF), i8x16.eq(v, e3)),
              v128.or(i8x16.eq(v, e1), i8x16.eq(v, e2)),
            ),
          ));
          if (bits != 0) {
            const k = ctz<i32>(bits);
            i += k;
            p += k;
            found = true;
            break;
          }
          i += 16;
          p += 16;
        }
        if (!found) {
          while (i < end) {
            const c = load<u8>(inp + <usize> i);
            if (load<u8>(QUOTED_CLASS + <usize> c) != PLAIN) break;
            store<u8>(out + <usize> p, c);
            p++;
            i++;
          }
          if (i == end) break;
        }
        b = <i32> load<u8>(inp + <usize> i);
        const kind = load<u8>(QUOTED_CLASS + <usize> b);
        i++;
        if (kind == QUOTE) {
          if (i < end && escape == q && <i32> load<u8>(inp + <usize> i) == q) {
            store<u16>(out + <usize> p, qCode); // a doubled quote
            p += qLength;
            i++;
            continue;
          }
          st = QUOTE_SEEN;
          break;
        }
        if (kind == ESCAPE) {
          if (i == end) {
            st = ESCAPE_SEEN;
            break;
          }
          const c = <i32> load<u8>(inp + <usize> i);
          if (c == q || c == escape) {
            p = putEncoded(c, p);
            i++;
          } else {
            p = putEncoded(escape, p);
          }
          continue;
        }
        p = putEncoded(b, p);
        if (kind == LINE_FEED) newLine(i);
      }
      if (i == end) continue;
    }
    if (st == QUOTE_SEEN) {
      b = <i32> load<u8>(inp + <usize> i);
      if (b == q && escape == q) {
        p = putEncoded(b, p); // a doubled quote split between chunks
        st = QUOTED;
        i++;
        continue;
      }
      if (b == delimiter) {
        term = DELIMITER;
      } else if (b == LF) {
        term = LINE_FEED;
      } else if (b == CR) {
        term = CARRIAGE_RETURN;
      } else {
        error(E_AFTER_CLOSING_QUOTE, line, columnAt(i), i, 0, 0);
        result = rejectFrom(i, SKIP_UNQUOTED);
        break;
      }
    } else if (st == ESCAPE_SEEN) {
      b = <i32> load<u8>(inp + <usize> i);
      st = QUOTED;
      if (b == q || b == escape) {
        p = putEncoded(b, p);
        i++;
      } else {
        p = putEncoded(escape, p);
      }
      continue;
    } else if (st == UNQUOTED) {
      // Copy up to the delimiter or line break; encode in place.
      let kind = 0;
      for (;;) {
        let found = false;
        while (i + 16 <= end) {
          const v = v128.load(inp + <usize> i);
          v128.store(out + <usize> p, v);
          const bits = i8x16.bitmask(v128.or(
            v128.or(i8x16.eq(v, vDelimiter), i8x16.eq(v, vQuote)),
            v128.or(
              v128.or(i8x16.eq(v, vLF), i8x16.eq(v, vCR)),
              v128.or(i8x16.eq(v, e1), i8x16.eq(v, e2)),
            ),
          ));
          if (bits != 0) {
            const k = ctz<i32>(bits);
            i += k;
            p += k;
            found = true;
            break;
          }
          i += 16;
          p += 16;
        }
        if (!found) {
          while (i < end) {
            const c = load<u8>(inp + <usize> i);
            if (load<u8>(UNQUOTED_CLASS + <usize> c) != PLAIN) break;
            store<u8>(out + <usize> p, c);
            p++;
            i++;
          }
          if (i == end) break;
        }
        b = <i32> load<u8>(inp + <usize> i);
        kind = <i32> load<u8>(UNQUOTED_CLASS + <usize> b);
        if (kind != ENCODE && kind != PLAIN) break;
        p = putEncoded(b, p);
        i++;
      }
      if (i == end) continue;
      if (kind == QUOTE) {
        error(E_QUOTE_IN_UNQUOTED, line, columnAt(i), i, 0, 0);
        result = rejectFrom(i, SKIP_UNQUOTED);
        break;
      }
      term = kind;
    }
    // A field or a record ends here. A record ends at a line feed, or at
    // the byte after a carriage return (CR_SEEN).
    let next = i + 1;
    let at = i;
    if (st == CR_SEEN) {
      at = i - 1; // the carriage return, perhaps in the chunk before
      if (b != LF) next = i;
    } else {
      p = endField(i, p, start, quoted, count);
      if (term == DELIMITER) {
        // A field left out takes no delimiter after it.
        const kept = !mask || load<u8>(KEEP + <usize> count) != 0;
        count++;
        if (expected != 0 && count >= expected) {
          error(
            E_TOO_MANY_FIELDS,
            line,
            columnAt(i + 1),
            i + 1,
            expected,
            count + 1,
          );
          result = rejectFrom(i + 1, SKIP_FIELD_START);
          break;
        }
        if (kept) {
          store<u8>(out + <usize> p, outDelimiter);
          p++;
        }
        st = FIELD_START;
        i++;
        continue;
      }
      if (term == CARRIAGE_RETURN) {
        st = CR_SEEN;
        i++;
        continue;
      }
    }
    pos = p;
    const ok = endRecord(next, at, quoted, count);
    p = pos;
    count = 0;
    if (!ok) {
      result = rejectRecord(next);
      break;
    }
    nextRecord(next);
    st = FIELD_START;
    i = next;
    if (rows == maxRows) {
      result = i;
      break;
    }
  }
  if (result == -2) {
    result = i;
    if (invalid && i >= limit && st == CR_SEEN) {
      // The carriage return before the invalid character ended a record.
      pos = p;
      const ok = endRecord(i, i - 1, quoted, count);
      p = pos;
      count = 0;
      st = FIELD_START;
      if (!ok) {
        result = rejectRecord(i);
        if (result >= 0) result = -3; // one malformed record per call
      } else {
        nextRecord(i);
        // At the last row asked for, the next call reports the character.
        if (rows == maxRows) result = -3;
      }
    }
    if (invalid && i >= limit && result == i) {
      const nul = limit >= 0 && load<u8>(input + <usize> limit) == 0;
      error(
        nul ? E_NUL_BYTE : E_INVALID_UTF8,
        line,
        columnOf(limit),
        limit,
        0,
        0,
      );
      result = rejectFrom(max(limit, 0), st + SKIP);
    }
    if (result == -3) result = i;
  }
  if (getRegister(REG_REJECT) != 0) {
    // The malformed record's output is dropped; framing goes on after it.
    st = state;
    p = pos;
    count = 0;
  }
  state = st;
  pos = p;
  fieldStart = start;
  fieldQuoted = quoted;
  fields = count;
  sync();
  return result;
}

/**
 * The error registers hold a malformed record's error, found at byte `i`
 * in framing state `skipState - SKIP`. In reject mode: reports the record,
 * drops its output and skips it from `i`; returns where framing goes on
 * (the chunk's end while the record goes on). Otherwise returns -1.
 */
function rejectFrom(i: i32, skipState: i32): i32 {
  if (!rejecting) return -1;
  reject();
  state = skipState;
  const next = skip(i);
  return next < 0 ? size : next;
}

/**
 * The record that ended at byte `next` has the wrong field count or a NULL
 * lane key. In reject mode: reports exactly that record and goes on after
 * it (returns `next`). Otherwise returns -1.
 */
function rejectRecord(next: i32): i32 {
  if (!rejecting) return -1;
  reject();
  return resync(next);
}

/** Reports the record in progress as malformed and drops its output. */
function reject(): void {
  setRegister(REG_REJECT, 1);
  setRegister(REG_REJECT_START, recordOffset);
  setRegister(REG_REJECT_LINE, recordLine);
  pos = recordStart;
  fields = 0;
  laneNull = false;
}

/**
 * Skips a malformed record from byte `from` to its end: the first line
 * break not inside a quoted field, as the framing reads quotes. Returns
 * where the next record starts, or -1 when the chunk ends first (the state
 * carries to the next one).
 */
function skip(from: i32): i32 {
  const q = quote;
  let st = state;
  let i = from;
  while (i < size) {
    const b = <i32> load<u8>(input + <usize> i);
    if (st == SKIP_UNQUOTED) {
      if (b == LF) return resync(i + 1);
      if (b == CR) st = SKIP_CR;
      else if (b == delimiter) st = SKIP_FIELD_START;
      i++;
    } else if (st == SKIP_FIELD_START) {
      if (b == q) {
        st = SKIP_QUOTED;
        i++;
      } else {
        st = SKIP_UNQUOTED;
      }
    } else if (st == SKIP_QUOTED) {
      if (b == q) st = SKIP_QUOTE_SEEN;
      else if (b == escape) st = SKIP_ESCAPE;
      else if (b == LF) newLine(i + 1);
      i++;
    } else if (st == SKIP_QUOTE_SEEN) {
      if (b == q && escape == q) {
        st = SKIP_QUOTED; // a doubled quote
        i++;
      } else {
        st = SKIP_UNQUOTED;
      }
    } else if (st == SKIP_ESCAPE) {
      st = SKIP_QUOTED;
      if (b == q || b == escape) i++;
    } else {
      // SKIP_CR: the record ended at the carriage return.
      return resync(b == LF ? i + 1 : i);
    }
  }
  state = st;
  return -1;
}

/**
 * The malformed record ended just before byte `next`: reports its end, and
 * framing starts a new record there (validating what follows, when the
 * record held the invalid character that stopped validation).
 */
function resync(next: i32): i32 {
  nextRecord(next);
  state = FIELD_START;
  setRegister(REG_REJECT_END, next);
  setRegister(REG_REJECT_LINES, line);
  if (invalid && limit < next) {
    invalid = false;
    limit = size;
    validate(next);
  }
  return next;
}

/**
 * At the end of input: the malformed record being skipped ends there (a
 * carriage return before it ended its last line).
 */
function endAtFinish(crEnded: bool): void {
  if (crEnded) newLine(0);
  setRegister(REG_REJECT_END, 0);
  setRegister(REG_REJECT_LINES, line);
}

/**
 * At the end of input, the record in progress is malformed. In reject
 * mode: reports it, running to the end of input, and returns 0. Otherwise
 * returns -1.
 */
function rejectAtEnd(crEnded: bool): i32 {
  if (!rejecting) return -1;
  reject();
  endAtFinish(crEnded);
  return 0;
}

/** A quoted field opens at byte `i`: remember where, for an error. */
function openQuote(i: i32): void {
  quoteLine = line;
  quoteOffset = i;
  quoteColumn = 0; // worked out when the chunk ends with the quote open
  quoteColumnIndex = colIndex;
  quoteColumnCount = colCount;
}

/** Appends byte `b` at `p` as the COPY format needs; returns the new end. */
function putEncoded(b: i32, p: i32): i32 {
  if (csvOut) {
    if (b == DQUOTE) {
      store<u8>(OUT + <usize> p, DQUOTE);
      p++;
    }
    store<u8>(OUT + <usize> p, b);
    return p + 1;
  }
  let escaped = 0;
  if (b == BACKSLASH) escaped = BACKSLASH;
  else if (b == TAB) escaped = 0x74; // t
  else if (b == LF) escaped = 0x6e; // n
  else if (b == CR) escaped = 0x72; // r
  if (escaped == 0) {
    store<u8>(OUT + <usize> p, b);
    return p + 1;
  }
  store<u8>(OUT + <usize> p, BACKSLASH);
  store<u8>(OUT + <usize> p + 1, escaped);
  return p + 2;
}

/**
 * Closes field number `field` (0-based), written from `start` to `p` and
 * ended by the byte at `i`: NULL rule, closing quote, lane key. Returns the
 * new end of the output.
 */
function endField(
  i: i32,
  p: i32,
  start: i32,
  quoted: bool,
  field: i32,
): i32 {
  const contentStart = start + (csvOut ? 1 : 0);
  fieldEmpty = p == contentStart;
  // A field left out: its bytes go (the lane field is never one).
  if (masked && load<u8>(KEEP + <usize> field) == 0) return start;
  let isNull = false;
  if (!quoted) {
    if (nullLength < 0) {
      isNull = p == contentStart;
    } else if (p - contentStart == nullLength) {
      isNull = true;
      for (let k = 0; k < nullLength; k++) {
        if (
          load<u8>(OUT + <usize> (contentStart + k)) !=
            load<u8>(NULLS + <usize> k)
        ) {
          isNull = false;
          break;
        }
      }
    }
  }
  if (field == laneField) laneKey(i, contentStart, p, isNull);
  if (isNull) {
    if (csvOut) return start;
    store<u8>(OUT + <usize> start, BACKSLASH);
    store<u8>(OUT + <usize> start + 1, 0x4e); // N
    return start + 2;
  }
  if (csvOut) {
    store<u8>(OUT + <usize> p, DQUOTE);
    return p + 1;
  }
  return p;
}

/**
 * The lane field, ended at byte `i`, is `[start, end)` of the output: keep
 * its range and hash. A NULL lane key fails the record, unless the line
 * turns out blank.
 */
function laneKey(i: i32, start: i32, end: i32, isNull: bool): void {
  laneNull = isNull;
  if (isNull) {
    laneNullLine = line;
    laneNullColumn = max(1, columnAt(i) - nullCodePoints);
    laneNullOffset = i;
    return;
  }
  laneStart = start;
  laneEnd = end;
  let hash = <i32> 0x811c9dc5;
  for (let k = start; k < end; k++) {
    hash = (hash ^ <i32> load<u8>(OUT + <usize> k)) * 0x01000193;
  }
  laneHash = hash;
}

/**
 * Ends the record (its last field closed, `fieldsBefore` fields before it)
 * whose terminator starts at byte `at` and which ends at chunk offset
 * `endOffset`. Returns false on an error.
 */
function endRecord(
  endOffset: i32,
  at: i32,
  lastQuoted: bool,
  fieldsBefore: i32,
): bool {
  const count = fieldsBefore + 1;
  if (count == 1 && !lastQuoted && fieldEmpty) {
    // A blank line: not a record.
    pos = recordStart;
    laneNull = false;
    return true;
  }
  if (expected == 0) expected = count;
  if (count < expected) {
    error(E_TOO_FEW_FIELDS, line, columnOf(at), at, expected, count);
    return false;
  }
  // The last field left out: drop the delimiter after the last kept one.
  if (masked && load<u8>(KEEP + <usize> fieldsBefore) == 0) pos--;
  store<u8>(OUT + <usize> pos, LF);
  pos++;
  if (laneNull) {
    error(E_NULL_LANE, laneNullLine, laneNullColumn, laneNullOffset, 0, 0);
    return false;
  }
  const row = META + (<usize> rows << 2);
  const stride = <usize> ROW_CAPACITY << 2;
  store<i32>(row + stride * META_ROW_END, pos);
  store<i32>(row + stride * META_LINE, recordLine);
  store<i32>(row + stride * META_END, endOffset);
  store<i32>(row + stride * META_LANE_START, laneStart);
  store<i32>(row + stride * META_LANE_END, laneEnd);
  store<i32>(row + stride * META_LANE_HASH, laneHash);
  rows++;
  recordStart = pos;
  return true;
}

/** A new physical line starts at byte `i`. */
function newLine(i: i32): void {
  line++;
  colIndex = i;
  colCount = 0;
}

/** A new line, and a new record on it, start at byte `i`. */
function nextRecord(i: i32): void {
  newLine(i);
  recordLine = line;
  recordOffset = i;
}

/** Characters in `[from, to)`, `from` the first byte of one. */
function countCodePoints(from: i32, to: i32): i32 {
  if (charset == CHARSET_SINGLE_BYTE) return to > from ? to - from : 0;
  let count = 0;
  if (charset != CHARSET_UTF8) {
    // EUC: walk from character to character; a byte from 0x80 takes the
    // bytes from 0x80 its character needs (no ASCII byte is part of one).
    let k = from;
    while (k < to) {
      const b = <i32> load<u8>(input + <usize> k);
      k++;
      count++;
      if (b < 0x80) continue;
      let trail = b == 0x8f && charset == CHARSET_EUC_JP ? 2 : 1;
      while (trail > 0 && k < to && load<u8>(input + <usize> k) >= 0x80) {
        k++;
        trail--;
      }
    }
    return count;
  }
  for (let k = from; k < to; k++) {
    if ((<i32> load<u8>(input + <usize> k) & 0xc0) != 0x80) count++;
  }
  return count;
}

function advanceColumn(to: i32): void {
  colCount += countCodePoints(colIndex, to);
  colIndex = max(colIndex, to);
}

/** 1-based column of byte `i` on the current line. */
function columnAt(i: i32): i32 {
  advanceColumn(i);
  return colCount + 1;
}

/**
 * The column of byte `i`, which may be before the chunk (`i < 0`: the lead
 * byte of the character the chunk continues, or a carriage return).
 */
function columnOf(i: i32): i32 {
  return i >= 0 ? columnAt(i) : columnAt(0) - 1;
}

function error(
  code: i32,
  atLine: i32,
  column: i32,
  offset: i32,
  arg1: i32,
  arg2: i32,
): void {
  store<i32>(REG + (REG_ERROR << 2), code);
  store<i32>(REG + (REG_ERROR_LINE << 2), atLine);
  store<i32>(REG + (REG_ERROR_COLUMN << 2), column);
  store<i32>(REG + (REG_ERROR_OFFSET << 2), offset);
  store<i32>(REG + (REG_ERROR_ARG1 << 2), arg1);
  store<i32>(REG + (REG_ERROR_ARG2 << 2), arg2);
}

function sync(): void {
  store<i32>(REG + (REG_POS << 2), pos);
  store<i32>(REG + (REG_RECORD_START << 2), recordStart);
  store<i32>(REG + (REG_ROWS << 2), rows);
}

function setRegister(index: i32, value: i32): void {
  store<i32>(REG + (<usize> index << 2), value);
}

function getRegister(index: i32): i32 {
  return load<i32>(REG + (<usize> index << 2));
}

/**
 * The chunk is framed: positions that outlive it are made relative to the
 * next one. Register REG_LINES says how many lines it advanced.
 */
export function endChunk(): void {
  if (
    (state == QUOTED || state == QUOTE_SEEN || state == ESCAPE_SEEN) &&
    quoteOffset >= 0 && quoteColumn == 0
  ) {
    quoteColumn = quoteColumnCount +
      countCodePoints(quoteColumnIndex, quoteOffset) + 1;
  }
  advanceColumn(size);
  colIndex = 0;
  store<i32>(REG + (REG_LINES << 2), line);
  recordLine -= line;
  quoteLine -= line;
  laneNullLine -= line;
  line = 0;
  recordOffset -= size;
  quoteOffset -= size;
  laneNullOffset -= size;
  size = 0;
  limit = 0;
}

/**
 * Ends the input: the last record may lack its line break. Returns 0, or
 * -1 on an error.
 */
export function finish(): i32 {
  rows = 0;
  setRegister(REG_ERROR, 0);
  setRegister(REG_REJECT, 0);
  setRegister(REG_REJECT_END, -1);
  colIndex = 0;
  const st = state;
  state = FIELD_START;
  if (st >= SKIP) {
    // The malformed record being skipped is the rest of the input.
    endAtFinish(st == SKIP_CR);
    return finished(0);
  }
  if (utf8Need > 0) {
    error(E_INVALID_UTF8, line, columnAt(0) - 1, -utf8Back, 0, 0);
    return finished(rejectAtEnd(false));
  }
  if (st == QUOTED || st == ESCAPE_SEEN) {
    error(E_UNCLOSED_QUOTE, quoteLine, quoteColumn, quoteOffset, 0, 0);
    return finished(rejectAtEnd(false));
  }
  if (st == FIELD_START) {
    if (fields == 0) return finished(0); // nothing pending
    // A trailing delimiter: the last field is empty and unquoted.
    fieldStart = pos;
    if (csvOut) {
      store<u8>(OUT + <usize> pos, DQUOTE);
      pos++;
    }
    fieldQuoted = false;
  }
  if (st != CR_SEEN) {
    pos = endField(0, pos, fieldStart, fieldQuoted, fields);
  }
  const ok = endRecord(0, st == CR_SEEN ? -1 : 0, fieldQuoted, fields);
  fields = 0;
  return finished(ok ? 0 : rejectAtEnd(st == CR_SEEN));
}

function finished(result: i32): i32 {
  sync();
  return result;
}

/**
 * Drops output bytes before `end` (a row boundary): the record in progress
 * moves to the start of the output.
 */
export function compact(end: i32): void {
  memory.copy(OUT, OUT + <usize> end, <usize> (pos - end));
  pos -= end;
  fieldStart -= end;
  recordStart -= end;
  laneStart -= end;
  laneEnd -= end;
  sync();
}
