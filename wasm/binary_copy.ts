/**
 * The COPY text -> COPY binary transcoder, in AssemblyScript: one call
 * turns a batch of COPY text rows into one COPY binary stream (header,
 * rows, trailer) when every value has a binary form by the rules of
 * `src/codec/binary/binary_rows.ts`, or names the first value that does
 * not (its row and field, in the registers), so the caller sends the batch
 * as text. `src/codec/binary/_binary_core.ts` (with `_binary_bytes.ts`,
 * `_binary_numbers.ts` and `_binary_time.ts`) is its TypeScript twin,
 * function for function; nothing else differs but how each language holds
 * a 64-bit integer, and that a row's fields are split 16 bytes at a time
 * with SIMD here.
 *
 * Memory (addresses from `layout`):
 * - registers: 16 i32 (`REG_*`);
 * - the type codes: a byte per field (`TYPE_*`), FIELD_CAPACITY of them;
 * - from the heap base, placed by `prepare`: the input rows, each row's
 *   end (u32), each row's seq (f64), then the output, which grows (with
 *   memory) as the rows need.
 *
 * Each value function takes the field's bytes `[p, q)` and the output
 * address `at` where its int32 length goes, and returns the address after
 * its bytes, or 0 for a miss (the output never starts at 0).
 */

// Defined once for both cores (the TypeScript twin imports them too).
import {
  BACKSLASH,
  CASE_BIT,
  CIVIL_1970_DAYS,
  CLASS_DELIMITER,
  CLASS_NESTING,
  CLASS_SPACE,
  CLASS_STRING,
  COLON,
  COMMA,
  DAY_SECONDS,
  DIGIT_0,
  DIGIT_1,
  DOT,
  EPOCH_2000_DAYS,
  EXPONENT_CAP,
  FIELD_CAPACITY,
  FLOAT_MAX_DIGITS,
  FLOAT_MAX_POW10,
  HEADER_BYTES,
  JSONB_MAX_MEMBERS,
  LEFT_BRACE,
  LEFT_BRACKET,
  LF,
  LOWER_B,
  LOWER_E,
  LOWER_F,
  LOWER_N,
  LOWER_O,
  LOWER_R,
  LOWER_T,
  LOWER_V,
  LOWER_X,
  LOWER_Y,
  MAX_OFFSET_HOURS,
  MINUS,
  NAIVE_UTC,
  NOT_HEX,
  NUMERIC_MAX_DIGITS,
  NUMERIC_NEGATIVE,
  PLUS,
  QUOTE,
  REG_LENGTH,
  REG_MISS_FIELD,
  REG_MISS_ROW,
  REGION_INPUT,
  REGION_REGISTERS,
  REGION_ROW_ENDS,
  REGION_SEQS,
  REGION_TYPES,
  REGISTER_COUNT,
  RESULT_MISS,
  RESULT_NO_MEMORY,
  RIGHT_BRACE,
  RIGHT_BRACKET,
  SIGNATURE_1,
  SIGNATURE_2,
  SIGNATURE_3,
  SPACE,
  TAB,
  TYPE_BOOL,
  TYPE_BYTEA,
  TYPE_DATE,
  TYPE_FLOAT4,
  TYPE_FLOAT8,
  TYPE_INT2,
  TYPE_INT4,
  TYPE_INT8,
  TYPE_JSON,
  TYPE_JSONB,
  TYPE_NONE,
  TYPE_NUMERIC,
  TYPE_TEXT,
  TYPE_TIMESTAMP,
  TYPE_TIMESTAMPTZ,
  TYPE_UUID,
  UPPER_N,
  UPPER_T,
  UPPER_Z,
} from "../src/codec/binary/_binary_constants.ts";

const REG: usize = memory.data(REGISTER_COUNT * 4, 16);
const TYPES: usize = memory.data(FIELD_CAPACITY, 16);
/** jsonb: each member's key start, key length, start and end (u32 each). */
const MEMBERS: usize = memory.data(JSONB_MAX_MEMBERS * 16, 16);
/** jsonb: the members' order (u32 each). */
const ORDER: usize = memory.data(JSONB_MAX_MEMBERS * 4, 16);
/** 1e0 … 1e22, each exact in a double. */
const POW10: usize = memory.data<f64>([
  1e0,
  1e1,
  1e2,
  1e3,
  1e4,
  1e5,
  1e6,
  1e7,
  1e8,
  1e9,
  1e10,
  1e11,
  1e12,
  1e13,
  1e14,
  1e15,
  1e16,
  1e17,
  1e18,
  1e19,
  1e20,
  1e21,
  1e22,
]);
/** Uuid: the hyphens in 8-4-4-4-12 before the digits of byte k. */
const UUID_DASHES: usize = memory.data<u8>([
  0,
  0,
  0,
  0,
  1,
  1,
  2,
  2,
  3,
  3,
  4,
  4,
  4,
  4,
  4,
  4,
]);
/** Each byte's JSON class (`CLASS_*` bits), for the jsonb member scan. */
const CLASSES: usize = memory.data(256, 16);
/** Each byte's hex digit value, or `NOT_HEX`. */
const HEX_VALUES: usize = memory.data(256, 16);
for (let c = 0; c < 256; c++) {
  store<u8>(CLASSES + <usize> c, <u8> jsonClass(c));
  store<u8>(HEX_VALUES + <usize> c, <u8> hexValue(c));
}
const HEAP: usize = (__heap_base + 15) & ~(<usize> 15);

// Configuration.
let expected: i32 = 0;
let naiveUtc: bool = false;

// The batch, placed by `prepare`.
let INPUT: usize = HEAP;
let ROW_ENDS: usize = HEAP;
let SEQS: usize = HEAP;
let OUT: usize = HEAP;
let inputLength: u32 = 0;

/**
 * Where a region starts (`REGION_*`): registers, type codes, and (valid
 * after `prepare`) the input, the row ends, the seqs and the output.
 */
export function layout(region: i32): usize {
  if (region == REGION_REGISTERS) return REG;
  if (region == REGION_TYPES) return TYPES;
  if (region == REGION_INPUT) return INPUT;
  if (region == REGION_ROW_ENDS) return ROW_ENDS;
  if (region == REGION_SEQS) return SEQS;
  return OUT;
}

/**
 * Sets the row shape: `fieldCount` type codes, already at
 * `layout(REGION_TYPES)`, and the flags (`NAIVE_UTC`).
 */
export function configure(fieldCount: i32, flags: i32): void {
  expected = fieldCount;
  naiveUtc = (flags & NAIVE_UTC) != 0;
}

/**
 * Places a batch of `rows` rows of `length` input bytes, and grows memory
 * to hold it and the output's start. Returns 1, or 0 when memory cannot
 * grow that far.
 */
export function prepare(length: u32, rows: u32): i32 {
  // In 64 bits, so that a batch too large for memory cannot wrap around.
  const rowEnds: u64 = (<u64> HEAP + <u64> length + 7) & ~(<u64> 7);
  const seqs: u64 = rowEnds + (((<u64> rows << 2) + 7) & ~(<u64> 7));
  const out: u64 = (seqs + (<u64> rows << 3) + 15) & ~(<u64> 15);
  if (!reserve(out + 65536)) return 0;
  inputLength = length;
  INPUT = HEAP;
  ROW_ENDS = <usize> rowEnds;
  SEQS = <usize> seqs;
  OUT = <usize> out;
  return 1;
}

/** Grows memory so that it ends at or after `end`; false if it cannot. */
function reserve(end: u64): bool {
  const have = <u64> memory.size() << 16;
  if (end <= have) return true;
  if (end > <u64> 0xffff0000) return false;
  const need = <i32> ((end - have + 0xffff) >> 16);
  // At least double, so a batch grows memory a few times, not per row.
  if (memory.grow(max(need, memory.size())) >= 0) return true;
  return memory.grow(need) >= 0;
}

/**
 * Transcodes the `rows` rows at `layout(REGION_INPUT)` (their ends at
 * `layout(REGION_ROW_ENDS)`; with `withSeqs`, an extra int8 field from
 * `layout(REGION_SEQS)`). Returns the output's length (also in
 * `REG_LENGTH`), `RESULT_MISS` (the miss registers name the value), or
 * `RESULT_NO_MEMORY`.
 */
export function encode(rows: i32, withSeqs: bool): i32 {
  store<i32>(REG + (REG_LENGTH << 2), 0);
  if (!reserve(<u64> OUT + HEADER_BYTES + 2)) return RESULT_NO_MEMORY;
  let at = header(OUT);
  const fields = expected + (withSeqs ? 1 : 0);
  let start: u32 = 0;
  for (let r = 0; r < rows; r++) {
    const end = load<u32>(ROW_ENDS + (<usize> r << 2));
    if (end <= start || end > inputLength) return miss(r, 0);
    // A value's bytes are at most 8 per input byte (numeric "1": 14 for
    // 2), its length included; 16 more for the count, seq and trailer,
    // and 48 for copyBytes's whole 16-byte stores.
    if (!reserve(<u64> at + 64 + (<u64> (end - start) << 3))) {
      return RESULT_NO_MEMORY;
    }
    store<u16>(at, bswap<u16>(<u16> fields));
    at = row(r, INPUT + <usize> start, INPUT + <usize> end, at + 2);
    if (at == 0) return RESULT_MISS;
    if (withSeqs) at = seq(at, load<f64>(SEQS + (<usize> r << 3)));
    start = end;
  }
  store<u16>(at, 0xffff);
  const length = <i32> (at + 2 - OUT);
  store<i32>(REG + (REG_LENGTH << 2), length);
  return length;
}

/** The 19-byte header: signature, flags 0, header extension length 0. */
function header(at: usize): usize {
  store<u32>(at, bswap<u32>(SIGNATURE_1));
  store<u32>(at + 4, bswap<u32>(SIGNATURE_2));
  store<u32>(at + 8, bswap<u32>(SIGNATURE_3));
  store<u32>(at + 11, 0);
  store<u32>(at + 15, 0);
  return at + HEADER_BYTES;
}

/** Records a miss at row `r`, field `f`. */
function miss(r: i32, f: i32): i32 {
  store<i32>(REG + (REG_MISS_ROW << 2), r);
  store<i32>(REG + (REG_MISS_FIELD << 2), f);
  return RESULT_MISS;
}

/**
 * Row `r`, its bytes `[start, end)` (ending in LF), as its fields from
 * `at`: the address after them, or 0 for a miss (recorded).
 */
function row(r: i32, start: usize, end: usize, at: usize): usize {
  const stop = end - 1;
  if (load<u8>(stop) != LF) return missAt(r, 0);
  if (expected == 0) return start == stop ? at : missAt(r, 0);
  let p = start;
  for (let f = 0; f < expected; f++) {
    let q = p;
    let escaped = false;
    while (q < stop) {
      q = skipRun(q, stop, TAB);
      if (q >= stop) break;
      const b = load<u8>(q);
      if (b == TAB) break;
      if (b == BACKSLASH) escaped = true;
      q++;
    }
    at = value(<i32> load<u8>(TYPES + <usize> f), p, q, escaped, at);
    if (at == 0) return missAt(r, f);
    if (q == stop) {
      // Too few fields: the first one missing.
      if (f + 1 < expected) return missAt(r, f + 1);
    } else if (f + 1 == expected) {
      // Too many: the first one extra.
      return missAt(r, expected);
    }
    p = q + 1;
  }
  return at;
}

function missAt(r: i32, f: i32): usize {
  miss(r, f);
  return 0;
}

/** The lane seq: an int8 field. */
function seq(at: usize, value: f64): usize {
  store<u32>(at, bswap<u32>(8));
  store<i64>(at + 4, bswap<i64>(<i64> value));
  return at + 12;
}

/**
 * One field, `[p, q)`, of type `type`; `escaped` when it holds a
 * backslash.
 */
function value(type: i32, p: usize, q: usize, escaped: bool, at: usize): usize {
  if (type == TYPE_NONE || type > TYPE_UUID) return 0;
  if (escaped) {
    if (q - p == 2 && load<u8>(p) == BACKSLASH && load<u8>(p + 1) == UPPER_N) {
      store<i32>(at, -1);
      return at + 4;
    }
    if (type == TYPE_TEXT || type == TYPE_JSON) return text(p, q, true, at, 0);
    if (type == TYPE_JSONB) return jsonb(p, q, true, at);
    if (type == TYPE_BYTEA) return bytea(p, q, at);
    return 0;
  }
  switch (type) {
    case TYPE_INT2:
      return integer(p, q, at, 2);
    case TYPE_INT4:
      return integer(p, q, at, 4);
    case TYPE_INT8:
      return integer(p, q, at, 8);
    case TYPE_NUMERIC:
      return numeric(p, q, at);
    case TYPE_FLOAT4:
      return float(p, q, at, 4);
    case TYPE_FLOAT8:
      return float(p, q, at, 8);
    case TYPE_BOOL:
      return boolean(p, q, at);
    case TYPE_TEXT:
    case TYPE_JSON:
      return text(p, q, false, at, 0);
    case TYPE_JSONB:
      return jsonb(p, q, false, at);
    case TYPE_BYTEA:
      return 0; // hex format starts with a backslash
    case TYPE_DATE:
      return date(p, q, at);
    case TYPE_TIMESTAMP:
      return timestamp(p, q, at, false);
    case TYPE_TIMESTAMPTZ:
      return timestamp(p, q, at, true);
    default:
      return uuid(p, q, at);
  }
}

// ---------------------------------------------------------------- text

/**
 * Text, json (`version` 0) and jsonb (`version` 1: its version byte
 * first): the unescaped bytes.
 */
function text(
  p: usize,
  q: usize,
  escaped: bool,
  at: usize,
  version: i32,
): usize {
  let w = at + 4;
  if (version != 0) store<u8>(w++, <u8> version);
  if (escaped) {
    w = unescape(p, q, w);
    if (w == 0) return 0;
  } else {
    copyBytes(w, p, q - p);
    w += q - p;
  }
  store<u32>(at, bswap<u32>(<u32> (w - at - 4)));
  return w;
}

/**
 * jsonb: version 1, then the unescaped bytes with the top-level object's
 * members in jsonb's order (`orderJsonbKeys`).
 */
function jsonb(p: usize, q: usize, escaped: bool, at: usize): usize {
  if (!escaped) {
    // Ordered straight from the input into the output.
    const end = orderJsonbKeys(p, q, at + 5);
    if (end == 0) return text(p, q, false, at, 1);
    store<u8>(at + 4, 1);
    store<u32>(at, bswap<u32>(<u32> (end - at - 4)));
    return end;
  }
  const w = text(p, q, true, at, 1);
  if (w == 0) return 0;
  // Unescaped into the output, ordered into the scratch after it, moved back.
  const end = orderJsonbKeys(at + 5, w, w);
  if (end == 0) return w;
  memory.copy(at + 5, w, end - w);
  const moved = at + 5 + (end - w);
  store<u32>(at, bswap<u32>(<u32> (moved - at - 4)));
  return moved;
}

/**
 * Writes the JSON object at `[p, e)` to `out` with its members in the
 * order jsonb keeps them (shorter keys first, then bytewise; stable, so of
 * equal keys the last still wins) and returns the end of what it wrote:
 * only whitespace between members is dropped. Returns 0, writing nothing,
 * when the value is to go as it is: not an object, a key holds a
 * backslash, more than `JSONB_MAX_MEMBERS` members, it does not scan (the
 * server then reports it), or its members are in order already. `out`
 * does not overlap `[p, e)`.
 */
function orderJsonbKeys(p: usize, e: usize, out: usize): usize {
  let i = skipSpace(p, e);
  if (i >= e || load<u8>(i) != LEFT_BRACE) return 0;
  i = skipSpace(i + 1, e);
  if (i < e && load<u8>(i) == RIGHT_BRACE) return 0;
  let n: u32 = 0;
  let sorted = true;
  while (true) {
    if (i >= e || load<u8>(i) != QUOTE || n == JSONB_MAX_MEMBERS) return 0;
    const key = i + 1;
    let k = key;
    while (
      k < e && (load<u8>(CLASSES + <usize> load<u8>(k)) & CLASS_STRING) == 0
    ) k++;
    if (k >= e || load<u8>(k) != QUOTE) return 0;
    i = skipSpace(k + 1, e);
    if (i >= e || load<u8>(i) != COLON) return 0;
    i = skipSpace(i + 1, e);
    const end = skipValue(i, e);
    if (end == 0) return 0;
    const m = MEMBERS + (<usize> n << 4);
    store<u32>(m, <u32> key);
    store<u32>(m + 4, <u32> (k - key));
    store<u32>(m + 8, <u32> (key - 1));
    store<u32>(m + 12, <u32> end);
    if (n > 0 && compareKeys(n - 1, n) > 0) sorted = false;
    store<u32>(ORDER + (<usize> n << 2), n);
    n++;
    i = skipSpace(end, e);
    if (i >= e) return 0;
    const c = load<u8>(i);
    if (c == COMMA) {
      i = skipSpace(i + 1, e);
    } else if (c == RIGHT_BRACE) {
      break;
    } else {
      return 0;
    }
  }
  if (skipSpace(i + 1, e) != e || sorted) return 0;
  // Insertion sort: stable, and objects are small.
  for (let a: u32 = 1; a < n; a++) {
    const member = load<u32>(ORDER + (<usize> a << 2));
    let b = a;
    while (
      b > 0 &&
      compareKeys(load<u32>(ORDER + (<usize> (b - 1) << 2)), member) > 0
    ) {
      store<u32>(
        ORDER + (<usize> b << 2),
        load<u32>(ORDER + (<usize> (b - 1) << 2)),
      );
      b--;
    }
    store<u32>(ORDER + (<usize> b << 2), member);
  }
  let w = out;
  store<u8>(w++, LEFT_BRACE);
  for (let a: u32 = 0; a < n; a++) {
    if (a > 0) store<u8>(w++, COMMA);
    const m = MEMBERS + (<usize> load<u32>(ORDER + (<usize> a << 2)) << 4);
    const start = <usize> load<u32>(m + 8);
    const stop = <usize> load<u32>(m + 12);
    copyBytes(w, start, stop - start);
    w += stop - start;
  }
  store<u8>(w++, RIGHT_BRACE);
  return w;
}

/** jsonb's order of members `a` and `b`: by key length, then bytes. */
function compareKeys(a: u32, b: u32): i32 {
  const ma = MEMBERS + (<usize> a << 4);
  const mb = MEMBERS + (<usize> b << 4);
  const ka = <usize> load<u32>(ma);
  const la = load<u32>(ma + 4);
  const kb = <usize> load<u32>(mb);
  const lb = load<u32>(mb + 4);
  if (la != lb) return <i32> la - <i32> lb;
  for (let j: usize = 0; j < <usize> la; j++) {
    const d = <i32> load<u8>(ka + j) - <i32> load<u8>(kb + j);
    if (d != 0) return d;
  }
  return 0;
}

/**
 * Copies `n` bytes from `src` to `dst` (not overlapping). Short runs, the
 * usual text field or JSON member, go as one or two 16-byte loads and
 * stores instead of a call to `memory.copy`: they read and write up to 32
 * bytes, which the layout allows (the input is followed by the row ends,
 * and each row reserves 64 bytes of output more than it can fill).
 */
function copyBytes(dst: usize, src: usize, n: usize): void {
  if (n <= 32) {
    v128.store(dst, v128.load(src));
    if (n > 16) v128.store(dst + 16, v128.load(src + 16));
  } else {
    memory.copy(dst, src, n);
  }
}

/** The first byte at or after `i` that is not JSON whitespace, or `e`. */
function skipSpace(i: usize, e: usize): usize {
  while (
    i < e && (load<u8>(CLASSES + <usize> load<u8>(i)) & CLASS_SPACE) != 0
  ) i++;
  return i;
}

/**
 * The end of the JSON value starting at `i` (a string, an object or
 * array by its brackets, or a bare run of bytes other than whitespace and
 * `,:{}[]"`), or 0 when it does not end before `e`. Its content is the
 * server's to check.
 */
function skipValue(i: usize, e: usize): usize {
  if (i >= e) return 0;
  const c = load<u8>(i);
  if (c == QUOTE) return skipString(i, e);
  if (c == LEFT_BRACE || c == LEFT_BRACKET) {
    let depth = 0;
    while (i < e) {
      const b = load<u8>(i);
      if ((load<u8>(CLASSES + <usize> b) & CLASS_NESTING) == 0) {
        i++;
        continue;
      }
      if (b == QUOTE) {
        i = skipString(i, e);
        if (i == 0) return 0;
        continue;
      }
      if (b == LEFT_BRACE || b == LEFT_BRACKET) depth++;
      if (b == RIGHT_BRACE || b == RIGHT_BRACKET) {
        depth--;
        if (depth == 0) return i + 1;
      }
      i++;
    }
    return 0;
  }
  const start = i;
  while (
    i < e &&
    (load<u8>(CLASSES + <usize> load<u8>(i)) &
        (CLASS_SPACE | CLASS_DELIMITER)) == 0
  ) i++;
  return i > start ? i : 0;
}

/** The end of the JSON string whose quote is at `i`, or 0. */
function skipString(i: usize, e: usize): usize {
  i++;
  while (i < e) {
    i = skipRun(i, e, QUOTE);
    if (i >= e) break;
    const b = load<u8>(i);
    if (b == QUOTE) return i + 1;
    i += b == BACKSLASH ? 2 : 1;
  }
  return 0;
}

/**
 * Skips, 16 bytes at a time, a run of bytes that are neither `stop` nor a
 * backslash from `i`: the first such byte, or where fewer than 16 bytes
 * are left before `e` (the caller goes on byte by byte; the twin goes
 * byte by byte throughout, and the result is the same).
 */
function skipRun(i: usize, e: usize, stop: i32): usize {
  while (i + 16 <= e) {
    const bytes = v128.load(i);
    const found = i8x16.bitmask(
      v128.or(
        i8x16.eq(bytes, i8x16.splat(<i8> stop)),
        i8x16.eq(bytes, i8x16.splat(<i8> BACKSLASH)),
      ),
    );
    if (found != 0) return i + <usize> ctz<u32>(found);
    i += 16;
  }
  return i;
}

/** A byte's `CLASS_*` bits. */
function jsonClass(c: i32): i32 {
  if (c == 0x20 || c == 0x09 || c == 0x0a || c == 0x0d) return CLASS_SPACE;
  if (c == QUOTE) return CLASS_DELIMITER | CLASS_NESTING | CLASS_STRING;
  if (c == BACKSLASH) return CLASS_STRING;
  if (
    c == LEFT_BRACE || c == RIGHT_BRACE || c == LEFT_BRACKET ||
    c == RIGHT_BRACKET
  ) return CLASS_DELIMITER | CLASS_NESTING;
  if (c == COMMA || c == COLON) return CLASS_DELIMITER;
  return 0;
}

/**
 * Copies `[p, q)` to `w` undoing COPY text's escapes (`\\`, `\b`, `\f`,
 * `\n`, `\r`, `\t`, `\v`); returns the address after, or 0 for any other
 * backslash sequence.
 */
function unescape(p: usize, q: usize, w: usize): usize {
  while (p < q) {
    let b = <i32> load<u8>(p++);
    if (b == BACKSLASH) {
      if (p == q) return 0;
      b = escapedByte(<i32> load<u8>(p++));
      if (b < 0) return 0;
    }
    store<u8>(w++, <u8> b);
  }
  return w;
}

/** The byte `\c` stands for, or -1. */
function escapedByte(c: i32): i32 {
  if (c == BACKSLASH) return BACKSLASH;
  if (c == LOWER_N) return LF;
  if (c == LOWER_T) return TAB;
  if (c == LOWER_R) return 0x0d;
  if (c == LOWER_B) return 0x08;
  if (c == LOWER_F) return 0x0c;
  if (c == LOWER_V) return 0x0b;
  return -1;
}

/** Bytea: the unescaped field is `\x` and pairs of hex digits. */
function bytea(p: usize, q: usize, at: usize): usize {
  const w = at + 4;
  const e = unescape(p, q, w);
  if (e == 0 || e - w < 2 || ((e - w) & 1) != 0) return 0;
  if (load<u8>(w) != BACKSLASH || load<u8>(w + 1) != LOWER_X) return 0;
  // Decoded in place: each pair becomes the byte it names.
  let o = w;
  for (let r = w + 2; r < e; r += 2) {
    const high = hex(<i32> load<u8>(r));
    const low = hex(<i32> load<u8>(r + 1));
    if (((high | low) & NOT_HEX) != 0) return 0;
    store<u8>(o++, <u8> ((high << 4) | low));
  }
  store<u32>(at, bswap<u32>(<u32> (o - w)));
  return o;
}

/** A hex digit's value, or `NOT_HEX`. */
function hexValue(c: i32): i32 {
  if (c - DIGIT_0 < 10 && c >= DIGIT_0) return c - DIGIT_0;
  const l = c | CASE_BIT;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return NOT_HEX;
}

/** A hex digit's value, or `NOT_HEX`. */
function hex(c: i32): i32 {
  return <i32> load<u8>(HEX_VALUES + <usize> c);
}

/** Uuid: 32 hex digits, with hyphens as 8-4-4-4-12 or none. */
function uuid(p: usize, q: usize, at: usize): usize {
  let dashed: u32 = 0;
  if (q - p == 36) {
    if (
      load<u8>(p + 8) != MINUS || load<u8>(p + 13) != MINUS ||
      load<u8>(p + 18) != MINUS || load<u8>(p + 23) != MINUS
    ) return 0;
    dashed = 0xff;
  } else if (q - p != 32) {
    return 0;
  }
  // Every digit is looked up, none branched on; a miss shows in `bad`.
  let bad = 0;
  for (let k: u32 = 0; k < 16; k++) {
    const r = p + (<usize> k << 1) +
      <usize> (load<u8>(UUID_DASHES + <usize> k) & dashed);
    const high = hex(<i32> load<u8>(r));
    const low = hex(<i32> load<u8>(r + 1));
    bad |= high | low;
    store<u8>(at + 4 + <usize> k, <u8> ((high << 4) | low));
  }
  if ((bad & NOT_HEX) != 0) return 0;
  store<u32>(at, bswap<u32>(16));
  return at + 20;
}

/** ASCII whitespace as C's isspace: space, \t, \n, \v, \f, \r. */
function isSpace(b: i32): bool {
  return b == SPACE || (b >= TAB && b <= 0x0d);
}

/** `b` in lower case, if an ASCII letter. */
function lower(b: i32): i32 {
  return b >= 0x41 && b <= UPPER_Z ? b | CASE_BIT : b;
}

/** Whether the `length` bytes at `p` are, in any case, a prefix of `word`. */
function prefixOf(p: usize, length: i32, word: string): bool {
  if (length > word.length) return false;
  for (let k = 0; k < length; k++) {
    if (lower(<i32> load<u8>(p + <usize> k)) != word.charCodeAt(k)) {
      return false;
    }
  }
  return true;
}

/** Bool, as PostgreSQL's `parse_bool_with_len` after trimming spaces. */
function boolean(p: usize, q: usize, at: usize): usize {
  while (p < q && isSpace(<i32> load<u8>(p))) p++;
  while (q > p && isSpace(<i32> load<u8>(q - 1))) q--;
  const length = <i32> (q - p);
  if (length == 0) return 0;
  const c = lower(<i32> load<u8>(p));
  let v = -1;
  if (c == LOWER_T) {
    if (prefixOf(p, length, "true")) v = 1;
  } else if (c == LOWER_F) {
    if (prefixOf(p, length, "false")) v = 0;
  } else if (c == LOWER_Y) {
    if (prefixOf(p, length, "yes")) v = 1;
  } else if (c == LOWER_N) {
    if (prefixOf(p, length, "no")) v = 0;
  } else if (c == LOWER_O) {
    if (length >= 2 && prefixOf(p, length, "on")) v = 1;
    else if (length >= 2 && prefixOf(p, length, "off")) v = 0;
  } else if (length == 1 && (c == DIGIT_0 || c == DIGIT_1)) {
    v = c - DIGIT_0;
  }
  if (v < 0) return 0;
  store<u32>(at, bswap<u32>(1));
  store<u8>(at + 4, <u8> v);
  return at + 5;
}

// ------------------------------------------------------------- numbers

/** Whether `c` is an ASCII digit. */
function isDigit(c: i32): bool {
  return <u32> (c - DIGIT_0) < 10;
}

/** Int2, int4, int8 (`width` bytes): `[+-]?[0-9]+` in range. */
function integer(p: usize, q: usize, at: usize, width: i32): usize {
  let i = p;
  let negative = false;
  if (i < q) {
    const s = <i32> load<u8>(i);
    if (s == PLUS || s == MINUS) {
      negative = s == MINUS;
      i++;
    }
  }
  if (i == q) return 0;
  while (i < q && load<u8>(i) == DIGIT_0) i++;
  // 19 digits are below 2^64: the magnitude cannot wrap.
  if (q - i > 19) return 0;
  let magnitude: u64 = 0;
  for (; i < q; i++) {
    const c = <i32> load<u8>(i);
    if (!isDigit(c)) return 0;
    magnitude = magnitude * 10 + <u64> (c - DIGIT_0);
  }
  const limit: u64 = (<u64> 1 << (<u64> width * 8 - 1)) -
    (negative ? 0 : 1);
  if (magnitude > limit) return 0;
  const v: u64 = negative ? 0 - magnitude : magnitude;
  store<u32>(at, bswap<u32>(<u32> width));
  if (width == 2) store<u16>(at + 4, bswap<u16>(<u16> v));
  else if (width == 4) store<u32>(at + 4, bswap<u32>(<u32> v));
  else store<u64>(at + 4, bswap<u64>(v));
  return at + 4 + <usize> width;
}

/**
 * Numeric: `[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)`, at most
 * NUMERIC_MAX_DIGITS digits, as base-10000 digits aligned at the point.
 */
function numeric(p: usize, q: usize, at: usize): usize {
  let i = p;
  let negative = false;
  if (i < q) {
    const s = <i32> load<u8>(i);
    if (s == PLUS || s == MINUS) {
      negative = s == MINUS;
      i++;
    }
  }
  const digitsStart = i;
  while (i < q && isDigit(<i32> load<u8>(i))) i++;
  const intDigits = <i32> (i - digitsStart);
  let fracDigits = 0;
  if (i < q && load<u8>(i) == DOT) {
    i++;
    const fracStart = i;
    while (i < q && isDigit(<i32> load<u8>(i))) i++;
    fracDigits = <i32> (i - fracStart);
  }
  if (i != q || intDigits + fracDigits == 0) return 0;
  if (intDigits + fracDigits > NUMERIC_MAX_DIGITS) return 0;
  // Groups of four digits, the first padded on the left so that a group
  // ends at the point; leading zero groups are not written, trailing ones
  // are taken back.
  const digits = at + 12;
  let w = digits;
  let last = digits;
  let first = -1;
  let index = 0;
  let group = 0;
  let count = (4 - intDigits % 4) % 4;
  for (let k = digitsStart; k < q; k++) {
    const c = <i32> load<u8>(k);
    if (c == DOT) continue;
    group = group * 10 + c - DIGIT_0;
    if (++count == 4) {
      if (group != 0 || first >= 0) {
        if (first < 0) first = index;
        store<u16>(w, bswap<u16>(<u16> group));
        w += 2;
        if (group != 0) last = w;
      }
      index++;
      group = 0;
      count = 0;
    }
  }
  if (count > 0) {
    while (count < 4) {
      group *= 10;
      count++;
    }
    if (group != 0) {
      if (first < 0) first = index;
      store<u16>(w, bswap<u16>(<u16> group));
      w += 2;
      last = w;
    }
  }
  const ndigits = <i32> ((last - digits) >> 1);
  const weight = ndigits == 0 ? 0 : (intDigits + 3) / 4 - 1 - first;
  const sign = ndigits != 0 && negative ? NUMERIC_NEGATIVE : 0;
  store<u32>(at, bswap<u32>(<u32> (8 + 2 * ndigits)));
  store<u16>(at + 4, bswap<u16>(<u16> ndigits));
  store<u16>(at + 6, bswap<u16>(<u16> weight));
  store<u16>(at + 8, bswap<u16>(<u16> sign));
  store<u16>(at + 10, bswap<u16>(<u16> fracDigits));
  return last;
}

/**
 * Float4 and float8 (`width` bytes):
 * `[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?`, by Clinger's fast
 * path only: at most FLOAT_MAX_DIGITS significant digits (trailing zeros
 * go to the exponent) and a power of ten within 1e±22.
 */
function float(p: usize, q: usize, at: usize, width: i32): usize {
  let i = p;
  let negative = false;
  if (i < q) {
    const s = <i32> load<u8>(i);
    if (s == PLUS || s == MINUS) {
      negative = s == MINUS;
      i++;
    }
  }
  const digitsStart = i;
  while (i < q && isDigit(<i32> load<u8>(i))) i++;
  const intDigits = <i32> (i - digitsStart);
  let mantissaEnd = i;
  let fracDigits = 0;
  if (i < q && load<u8>(i) == DOT) {
    i++;
    const fracStart = i;
    while (i < q && isDigit(<i32> load<u8>(i))) i++;
    fracDigits = <i32> (i - fracStart);
    mantissaEnd = i;
  }
  if (intDigits + fracDigits == 0) return 0;
  let exponent = 0;
  if (i < q && (<i32> load<u8>(i) | CASE_BIT) == LOWER_E) {
    i++;
    let exponentNegative = false;
    if (i < q) {
      const s = <i32> load<u8>(i);
      if (s == PLUS || s == MINUS) {
        exponentNegative = s == MINUS;
        i++;
      }
    }
    const exponentStart = i;
    while (i < q && isDigit(<i32> load<u8>(i))) {
      if (exponent < EXPONENT_CAP) {
        exponent = exponent * 10 + <i32> load<u8>(i) - DIGIT_0;
      }
      i++;
    }
    if (i == exponentStart) return 0;
    if (exponentNegative) exponent = -exponent;
  }
  if (i != q) return 0;
  // The significand from the first nonzero digit to the last; `position`
  // is each digit's power of ten.
  let m: i64 = 0;
  let significant = 0;
  let zeros = 0;
  let lastPosition = 0;
  let position = intDigits - 1;
  for (let k = digitsStart; k < mantissaEnd; k++) {
    const c = <i32> load<u8>(k);
    if (c == DOT) continue;
    const d = c - DIGIT_0;
    if (d == 0) {
      if (significant > 0) zeros++;
    } else {
      significant += zeros + 1;
      if (significant > FLOAT_MAX_DIGITS) return 0;
      for (; zeros > 0; zeros--) m *= 10;
      m = m * 10 + d;
      lastPosition = position;
    }
    position--;
  }
  let result: f64 = 0;
  if (significant > 0) {
    const e10: i64 = <i64> lastPosition + <i64> exponent;
    if (e10 > FLOAT_MAX_POW10 || e10 < -FLOAT_MAX_POW10) return 0;
    result = e10 >= 0
      ? <f64> m * load<f64>(POW10 + (<usize> e10 << 3))
      : <f64> m / load<f64>(POW10 + (<usize> -e10 << 3));
  }
  if (negative) result = -result;
  if (width == 8) {
    store<u32>(at, bswap<u32>(8));
    store<i64>(at + 4, bswap<i64>(reinterpret<i64>(result)));
    return at + 12;
  }
  const f = <f32> result;
  if (!isFinite<f32>(f)) return 0;
  if (significant > 0 && abs<f32>(f) < reinterpret<f32>(0x00800000)) return 0;
  if (halfway(result, f)) return 0;
  store<u32>(at, bswap<u32>(4));
  store<u32>(at + 4, bswap<u32>(reinterpret<u32>(f)));
  return at + 8;
}

/**
 * Whether `d` lies exactly halfway between `f` (its nearest f32) and the
 * f32 next to `f` on `d`'s side: the server's strtof may round it the
 * other way.
 */
function halfway(d: f64, f: f32): bool {
  const fd = <f64> f;
  if (fd == d) return false;
  const bits = reinterpret<u32>(f);
  // The neighbour away from zero when |d| > |f|, else towards it.
  const neighbour = reinterpret<f32>(
    abs<f64>(d) > abs<f64>(fd) ? bits + 1 : bits - 1,
  );
  return (fd + <f64> neighbour) * 0.5 == d;
}

// ---------------------------------------------------------------- time

/** The `n` digits at `p` as a number, or -1 if one is not a digit. */
function digitsAt(p: usize, n: i32): i32 {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = <i32> load<u8>(p + <usize> k);
    if (!isDigit(c)) return -1;
    v = v * 10 + c - DIGIT_0;
  }
  return v;
}

/**
 * `YYYY-MM-DD` at `p` (year 1 to 9999, a valid day): days since
 * 2000-01-01, or i32.MIN_VALUE.
 */
function dayAt(p: usize): i32 {
  const y = digitsAt(p, 4);
  const m = digitsAt(p + 5, 2);
  const d = digitsAt(p + 8, 2);
  if (load<u8>(p + 4) != MINUS || load<u8>(p + 7) != MINUS) {
    return i32.MIN_VALUE;
  }
  if (y < 1 || m < 1 || m > 12 || d < 1) return i32.MIN_VALUE;
  if (d > monthDays(y, m)) return i32.MIN_VALUE;
  return civilDays(y, m, d) - EPOCH_2000_DAYS;
}

/** Days in month `m` of year `y` (Gregorian leap years). */
function monthDays(y: i32, m: i32): i32 {
  if (m == 2) {
    const leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return leap ? 29 : 28;
  }
  return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}

/** Days from 1970-01-01 to `y-m-d` (y >= 1), proleptic Gregorian. */
function civilDays(y: i32, m: i32, d: i32): i32 {
  const year = m <= 2 ? y - 1 : y;
  const era = year / 400;
  const yearOfEra = year - era * 400;
  const dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 +
    dayOfYear;
  return era * 146097 + dayOfEra - CIVIL_1970_DAYS;
}

/** Date: exactly `YYYY-MM-DD`, as days since 2000-01-01. */
function date(p: usize, q: usize, at: usize): usize {
  if (q - p != 10) return 0;
  const days = dayAt(p);
  if (days == i32.MIN_VALUE) return 0;
  store<u32>(at, bswap<u32>(4));
  store<i32>(at + 4, bswap<i32>(days));
  return at + 8;
}

/**
 * Timestamp: `YYYY-MM-DD` `[ T]` `HH:MM:SS` (`.` and 1 to 6 digits
 * optional), microseconds since 2000-01-01; with `zoned` (timestamptz), then
 * an offset (`Z`, or `+`/`-` and `HH`, `HH:MM` or `HHMM`) or, when the
 * session is UTC, none: microseconds of the UTC instant.
 */
function timestamp(p: usize, q: usize, at: usize, zoned: bool): usize {
  if (q - p < 19) return 0;
  const days = dayAt(p);
  if (days == i32.MIN_VALUE) return 0;
  const t = <i32> load<u8>(p + 10);
  if (t != SPACE && t != UPPER_T) return 0;
  const hours = digitsAt(p + 11, 2);
  const minutes = digitsAt(p + 14, 2);
  const seconds = digitsAt(p + 17, 2);
  if (load<u8>(p + 13) != COLON || load<u8>(p + 16) != COLON) return 0;
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return 0;
  if (seconds < 0 || seconds > 59) return 0;
  let i = p + 19;
  let micros = 0;
  if (i < q && load<u8>(i) == DOT) {
    i++;
    let n = 0;
    while (i < q && isDigit(<i32> load<u8>(i))) {
      if (++n > 6) return 0;
      micros = micros * 10 + <i32> load<u8>(i) - DIGIT_0;
      i++;
    }
    if (n == 0) return 0;
    for (; n < 6; n++) micros *= 10;
  }
  let offset = 0;
  if (zoned) {
    offset = offsetAt(i, q);
    if (offset == i32.MIN_VALUE) return 0;
  } else if (i != q) {
    return 0;
  }
  const total: i64 = <i64> days * DAY_SECONDS + hours * 3600 + minutes * 60 +
    seconds - offset;
  store<u32>(at, bswap<u32>(8));
  store<i64>(at + 4, bswap<i64>(total * 1000000 + micros));
  return at + 12;
}

/**
 * A timestamptz's offset, `[i, q)`, in seconds east of UTC; none is UTC
 * when the session is; i32.MIN_VALUE if it is none of the forms.
 */
function offsetAt(i: usize, q: usize): i32 {
  if (i == q) return naiveUtc ? 0 : i32.MIN_VALUE;
  const s = <i32> load<u8>(i);
  if ((s | CASE_BIT) == (UPPER_Z | CASE_BIT)) {
    return i + 1 == q ? 0 : i32.MIN_VALUE;
  }
  if (s != PLUS && s != MINUS) return i32.MIN_VALUE;
  const length = <i32> (q - i);
  if (length != 3 && length != 5 && length != 6) return i32.MIN_VALUE;
  const hours = digitsAt(i + 1, 2);
  let minutes = 0;
  if (length == 5) {
    minutes = digitsAt(i + 3, 2);
  } else if (length == 6) {
    if (load<u8>(i + 3) != COLON) return i32.MIN_VALUE;
    minutes = digitsAt(i + 4, 2);
  }
  if (hours < 0 || hours > MAX_OFFSET_HOURS) return i32.MIN_VALUE;
  if (minutes < 0 || minutes > 59) return i32.MIN_VALUE;
  const seconds = hours * 3600 + minutes * 60;
  return s == MINUS ? -seconds : seconds;
}
