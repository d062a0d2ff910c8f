/**
 * The NDJSON-to-COPY scan core, in AssemblyScript: reads the JSON objects
 * of one input chunk and encodes each as a COPY row in column order, in one
 * call, writing the rows and their metadata into linear memory.
 * `src/codec/ndjson/_ndjson_core.ts` is its TypeScript twin, function for function;
 * `src/codec/ndjson/_ndjson_codec_base.ts` drives either one (BOM, lane keys, errors in
 * words, totals).
 *
 * Memory (addresses from `layout` and `place`):
 * - registers: 16 i32 the caller reads after each call (`REG_*` below);
 * - metadata: for each row of the call, 6 i32 arrays of ROW_CAPACITY
 *   entries (row end in the output, source line and end offset relative to
 *   the chunk, lane value start and end in the output, lane value hash);
 * - the column names (UTF-8, back to back) and their starts, then per
 *   column the record's value range and the stamp of the record that set it
 *   (one more column takes the values of keys that are none), and the keep
 *   mask (a byte per column, 0 for one the rows leave out);
 * - the regions the caller places and grows (`place`): the nesting stack,
 *   the key being read, the record's values, the output, the input chunk.
 *
 * Offsets and lines are relative to the chunk: the caller keeps the
 * totals. The only differences from the twin: plain string bytes are
 * copied 16 at a time with SIMD, and the output does not grow here: when a
 * row does not fit, the call stops before it and asks for room (`REG_NEED`).
 */

// Defined once for both cores (the TypeScript twin imports them too).
import {
  AFTER_RECORD,
  AFTER_VALUE,
  ARRAY,
  BACKSLASH,
  COLON,
  CR,
  DQUOTE,
  E_BAD_ESCAPE,
  E_CONTROL_CHARACTER,
  E_DUPLICATE_KEY,
  E_EXPECTED_COLON,
  E_EXPECTED_COMMA_OR_BRACE,
  E_EXPECTED_COMMA_OR_BRACKET,
  E_EXPECTED_DIGIT,
  E_EXPECTED_EXPONENT,
  E_EXPECTED_HEX,
  E_EXPECTED_KEY,
  E_EXPECTED_KEY_OR_END,
  E_EXPECTED_LINE_END,
  E_EXPECTED_LITERAL,
  E_EXPECTED_OBJECT,
  E_EXPECTED_VALUE,
  E_EXPECTED_VALUE_OR_END,
  E_INPUT_ENDS,
  E_INVALID_UTF8,
  E_LEADING_ZERO,
  E_LINE_ENDS,
  E_MISSING_LANE,
  E_NUL_ESCAPE,
  E_NULL_LANE,
  E_UNKNOWN_KEY,
  E_UNPAIRED_SURROGATE,
  ESCAPE,
  HEX,
  KEY,
  KEY_OR_END,
  KEY_STRING,
  LF,
  LINE_START,
  LITERAL,
  LOW_BACKSLASH,
  LOW_U,
  META_END,
  META_LANE_END,
  META_LANE_HASH,
  META_LANE_START,
  META_LINE,
  META_ROW_END,
  NULL_AT,
  NUM_DOT,
  NUM_E,
  NUM_E_DIGITS,
  NUM_E_SIGN,
  NUM_FRAC,
  NUM_INT,
  NUM_MINUS,
  NUM_ZERO,
  OBJECT,
  RAW_KEY,
  RAW_VALUE,
  REG_DEPTH,
  REG_ERROR,
  REG_ERROR_ARG1,
  REG_ERROR_ARG2,
  REG_ERROR_COLUMN,
  REG_ERROR_LINE,
  REG_ERROR_OFFSET,
  REG_KEY_LENGTH,
  REG_LINES,
  REG_NEED,
  REG_POS,
  REG_REJECT,
  REG_REJECT_END,
  REG_REJECT_START,
  REG_ROWS,
  REG_VAL_POS,
  ROW_CAPACITY,
  SKIP_LINE,
  SPACE,
  STRING,
  TAB,
  VALUE,
  VALUE_OR_END,
  VALUE_STRING,
} from "../src/codec/ndjson/_ndjson_constants.ts";

const REG: usize = memory.data(64, 16);
const META: usize = memory.data(ROW_CAPACITY * 24, 16);
/** `true`, `false` and `null`, back to back: a literal is a range of it. */
const LITERALS: usize = memory.data<u8>([
  0x74,
  0x72,
  0x75,
  0x65,
  0x66,
  0x61,
  0x6c,
  0x73,
  0x65,
  0x6e,
  0x75,
  0x6c,
  0x6c,
]);
const NAMES: usize = (__heap_base + 15) & ~(<usize> 15);

// Configuration.
let count: i32 = 0;
let csvOut: bool = false;
let outDelimiter: i32 = TAB;
let laneField: i32 = -1;
let rejecting: bool = false;
let skipUnknown: bool = false;
let STARTS: usize = 0;
let COL_START: usize = 0;
let COL_END: usize = 0;
let SEEN: usize = 0;
let KEEP: usize = 0;
let FREE: usize = 0;

// Regions the caller places.
let STACK: usize = 0;
let KEYS: usize = 0;
let VALS: usize = 0;
let OUT: usize = 0;
let outCapacity: i32 = 0;
let INPUT: usize = 0;
let size: i32 = 0;

// Output: whole rows. Per call: `rows` rows.
let pos: i32 = 0;
let rows: i32 = 0;

// The record in progress (see COL_START, COL_END, SEEN).
let valPos: i32 = 0;
let valStart: i32 = 0;
let stamp: u32 = 0;
let col: i32 = -1;

// The key being read, unescaped.
let keyLen: i32 = 0;

// Scanning state.
let state: i32 = LINE_START;
let depth: i32 = 0;
let mode: i32 = KEY_STRING;
let hex: i32 = 0;
let hexDigits: i32 = 0;
let high: i32 = 0;
let literal: i32 = 0;
let literalEnd: i32 = 0;
let utf8Need: i32 = 0;
let utf8Low: i32 = 0x80;
let utf8High: i32 = 0xbf;
// The lead byte of the multibyte character being read, and its bytes read
// so far (it may start in an earlier chunk).
let utf8LeadByte: i32 = 0;
let utf8Read: i32 = 0;
let line: i32 = 0;
// Where the current line starts, relative to the chunk.
let lineStart: i32 = 0;

// The current key's start (see the twin).
let markIndex: i32 = -1;
let markColumn: i32 = 0;
let markOffset: i32 = 0;

// Column cursor: `colCount` code points of the current line precede input
// byte `colIndex`.
let colIndex: i32 = 0;
let colCount: i32 = 0;

/**
 * Where a region starts: 0 registers, 1 metadata, 2 column names, 3 their
 * starts (u32, `count + 1`), 4 the first byte free for `place`, 5 the keep
 * mask (a byte per column, 1 when written; 3 to 5 valid after `configure`).
 */
export function layout(region: i32): usize {
  if (region == 0) return REG;
  if (region == 1) return META;
  if (region == 2) return NAMES;
  if (region == 3) return STARTS;
  if (region == 5) return KEEP;
  return FREE;
}

/**
 * Sets the columns (their names, `nameBytes` bytes, go at `layout(2)`,
 * their starts at `layout(3)` and the keep mask at `layout(5)`, after this
 * call), the COPY format, the lane column, reject mode (`rejects`: skip
 * malformed records instead of stopping), and whether a key that is no
 * column is read and left out (`unknown`) instead of an error. Column
 * `columns` (one past the last) takes such keys' values: never written.
 */
export function configure(
  columns: i32,
  nameBytes: i32,
  csv: bool,
  lane: i32,
  rejects: bool,
  unknown: bool,
): void {
  rejecting = rejects;
  skipUnknown = unknown;
  count = columns;
  csvOut = csv;
  outDelimiter = csv ? 0x2c : TAB;
  laneField = lane;
  const slots = <usize> (columns + 1);
  STARTS = (NAMES + <usize> nameBytes + 15) & ~(<usize> 15);
  COL_START = (STARTS + (slots << 2) + 15) & ~(<usize> 15);
  COL_END = COL_START + (slots << 2);
  SEEN = COL_END + (slots << 2);
  KEEP = SEEN + (slots << 2);
  FREE = (KEEP + slots + 15) & ~(<usize> 15);
}

/**
 * Places the regions (their live bytes already copied there): the nesting
 * stack, the key, the record's values, the output (`capacity` bytes) and
 * the input chunk.
 */
export function place(
  stackAt: usize,
  keyAt: usize,
  valsAt: usize,
  outAt: usize,
  capacity: i32,
  inputAt: usize,
): void {
  STACK = stackAt;
  KEYS = keyAt;
  VALS = valsAt;
  OUT = outAt;
  outCapacity = capacity;
  INPUT = inputAt;
}

/** Takes the next chunk: `length` bytes the caller put at the input. */
export function begin(length: i32): void {
  size = length;
  colIndex = 0;
  line = 0;
  setRegister(REG_ERROR, 0);
  setRegister(REG_NEED, 0);
}

/**
 * Scans the chunk from byte `from`, until its end or until `maxRows` rows
 * are complete, or until a row does not fit in the output (`REG_NEED` then
 * says how many output bytes it needs). Returns where it stopped, or -1 on
 * an error (registers say which; the rows before it are complete). In
 * reject mode a malformed record is reported (`REG_REJECT`) and its line
 * skipped instead: the call returns where the next line starts.
 */
export function scan(from: i32, maxRows: i32): i32 {
  setRegister(REG_REJECT, 0);
  setRegister(REG_REJECT_END, -1);
  if (state == SKIP_LINE) {
    // A malformed record's line goes on from the chunk before.
    rows = 0;
    setRegister(REG_NEED, 0);
    const next = skipLine(from);
    sync();
    return next < 0 ? size : next;
  }
  const stop = scanRecords(from, maxRows);
  if (stop >= 0 || !rejecting) return stop;
  // A malformed record: skip the rest of its line, which holds no line
  // feed before the error (a record is one line).
  reject();
  const next = skipLine(max(getRegister(REG_ERROR_OFFSET), 0));
  sync();
  return next < 0 ? size : next;
}

/**
 * Reports the record in progress as malformed (the error registers say
 * why), drops it, and starts skipping its line.
 */
function reject(): void {
  setRegister(REG_REJECT, 1);
  setRegister(REG_REJECT_START, lineStart);
  depth = 0;
  valPos = 0;
  utf8Need = 0;
  utf8Low = 0x80;
  utf8High = 0xbf;
  high = 0;
  state = SKIP_LINE;
}

/**
 * Skips the malformed record's line from byte `from` to its line feed.
 * Returns where the next line starts, or -1 when the chunk ends first.
 */
function skipLine(from: i32): i32 {
  const n = size;
  let i = from;
  while (i < n) {
    if (<i32> load<u8>(INPUT + <usize> i) == LF) {
      newLine(i + 1);
      state = LINE_START;
      setRegister(REG_REJECT_END, i + 1);
      return i + 1;
    }
    i++;
  }
  return -1;
}

/** `scan`, without reject mode. */
function scanRecords(from: i32, maxRows: i32): i32 {
  const n = size;
  const inp = INPUT;
  let st = state;
  let i = from;
  rows = 0;
  setRegister(REG_NEED, 0);
  while (i < n) {
    const b = <i32> load<u8>(inp + <usize> i);
    if (st <= AFTER_RECORD && (b == SPACE || b == TAB || b == CR)) {
      if (depth >= 2) putEscaped(b);
      i++;
      continue;
    }
    switch (st) {
      case LINE_START: {
        if (b == LF) {
          newLine(i + 1);
        } else if (b == 0x7b) { // {
          depth = 1;
          store<u8>(STACK + 1, OBJECT);
          stamp++;
          if (stamp == 0) {
            memory.fill(SEEN, 0, <usize> count << 2);
            stamp = 1;
          }
          col = -1;
          valPos = 0;
          st = KEY_OR_END;
        } else {
          return unexpected(E_EXPECTED_OBJECT, b, i);
        }
        i++;
        continue;
      }
      case KEY_OR_END:
      case KEY: {
        if (b == DQUOTE) {
          if (depth == 1) {
            mode = KEY_STRING;
            keyLen = 0;
            markIndex = i;
            markOffset = i;
          } else {
            mode = RAW_KEY;
            putEscaped(DQUOTE);
          }
          st = STRING;
        } else if (b == 0x7d && st == KEY_OR_END) { // }
          st = close(i);
          if (st < 0) return -1;
        } else {
          return unexpected(
            st == KEY ? E_EXPECTED_KEY : E_EXPECTED_KEY_OR_END,
            b,
            i,
          );
        }
        i++;
        continue;
      }
      case COLON: {
        if (b != 0x3a) return unexpected(E_EXPECTED_COLON, b, i);
        if (depth >= 2) putVal(b);
        st = VALUE;
        i++;
        continue;
      }
      case VALUE:
      case VALUE_OR_END: {
        if (b == 0x5d && st == VALUE_OR_END) { // ]
          st = close(i);
          i++;
          continue;
        }
        if (depth == 1) {
          valStart = valPos;
          if (csvOut) putVal(DQUOTE);
        }
        if (b == DQUOTE) {
          if (depth == 1) {
            mode = VALUE_STRING;
          } else {
            mode = RAW_VALUE;
            putEscaped(DQUOTE);
          }
          st = STRING;
        } else if (b == 0x7b || b == 0x5b) { // { [
          putVal(b);
          depth++;
          store<u8>(STACK + <usize> depth, b == 0x7b ? OBJECT : ARRAY);
          st = b == 0x7b ? KEY_OR_END : VALUE_OR_END;
        } else if (b == 0x2d) { // -
          putVal(b);
          st = NUM_MINUS;
        } else if (b == 0x30) { // 0
          putVal(b);
          st = NUM_ZERO;
        } else if (b >= 0x31 && b <= 0x39) {
          putVal(b);
          st = NUM_INT;
        } else if (b == 0x74 || b == 0x66 || b == 0x6e) { // t f n
          putVal(b);
          literal = b == 0x74 ? 1 : b == 0x66 ? 5 : NULL_AT + 1;
          literalEnd = b == 0x74 ? 4 : b == 0x66 ? 9 : NULL_AT + 4;
          st = LITERAL;
        } else {
          return unexpected(
            st == VALUE ? E_EXPECTED_VALUE : E_EXPECTED_VALUE_OR_END,
            b,
            i,
          );
        }
        i++;
        continue;
      }
      case AFTER_VALUE: {
        const inObject = load<u8>(STACK + <usize> depth) == OBJECT;
        if (b == 0x2c) { // ,
          if (depth >= 2) putVal(b);
          st = inObject ? KEY : VALUE;
        } else if (b == (inObject ? 0x7d : 0x5d)) {
          st = close(i);
          if (st < 0) return -1;
        } else {
          return unexpected(
            inObject ? E_EXPECTED_COMMA_OR_BRACE : E_EXPECTED_COMMA_OR_BRACKET,
            b,
            i,
          );
        }
        i++;
        continue;
      }
      case AFTER_RECORD: {
        if (b != LF) return unexpected(E_EXPECTED_LINE_END, b, i);
        if (rows == maxRows || !fits()) {
          state = st;
          sync();
          return i;
        }
        endRecord(i + 1);
        newLine(i + 1);
        st = LINE_START;
        i++;
        continue;
      }
      case STRING: {
        if (utf8Need > 0) {
          if (!utf8Continue(b, i)) return -1;
          i++;
          continue;
        }
        // Copy the plain run, 16 bytes at a time while they are plain.
        const into = mode == KEY_STRING ? KEYS : VALS;
        let p = mode == KEY_STRING ? keyLen : valPos;
        const quote = i8x16.splat(<i8> DQUOTE);
        const backslash = i8x16.splat(<i8> BACKSLASH);
        const control = i8x16.splat(<i8> SPACE);
        while (i + 16 <= n) {
          const v = v128.load(inp + <usize> i);
          const special = i8x16.bitmask(
            v128.or(
              v128.or(i8x16.eq(v, quote), i8x16.eq(v, backslash)),
              i8x16.lt_u(v, control),
            ),
          ) | i8x16.bitmask(v);
          v128.store(into + <usize> p, v);
          if (special != 0) {
            const k = ctz<i32>(special);
            p += k;
            i += k;
            break;
          }
          p += 16;
          i += 16;
        }
        let c = 0;
        if (i < n) {
          c = <i32> load<u8>(inp + <usize> i);
          while (c >= SPACE && c < 0x80 && c != DQUOTE && c != BACKSLASH) {
            store<u8>(into + <usize> p, c);
            p++;
            if (++i == n) break;
            c = <i32> load<u8>(inp + <usize> i);
          }
        }
        if (mode == KEY_STRING) keyLen = p;
        else valPos = p;
        if (i == n) continue;
        if (c == DQUOTE) {
          st = endString(i);
          if (st < 0) return -1;
        } else if (c == BACKSLASH) {
          if (mode >= RAW_KEY) putEscaped(c);
          st = ESCAPE;
        } else if (c < SPACE) {
          return fail(c == LF ? E_LINE_ENDS : E_CONTROL_CHARACTER, i, c, 0);
        } else if (!utf8Lead(c, i)) {
          return -1;
        }
        i++;
        continue;
      }
      case ESCAPE: {
        if (b == 0x75) { // u
          if (mode >= RAW_KEY) putVal(b);
          hex = 0;
          hexDigits = 0;
          st = HEX;
        } else {
          const unescaped = unescape(b);
          if (unescaped < 0) {
            return fail(b == LF ? E_LINE_ENDS : E_BAD_ESCAPE, i, b, 0);
          }
          if (mode >= RAW_KEY) putEscaped(b);
          else putString(unescaped);
          st = STRING;
        }
        i++;
        continue;
      }
      case HEX: {
        const digit = hexValue(b);
        if (digit < 0) return unexpected(E_EXPECTED_HEX, b, i);
        hex = hex * 16 + digit;
        hexDigits++;
        if (mode >= RAW_KEY) putVal(b);
        st = hexDigits < 4 ? HEX : endHex(i);
        if (st < 0) return -1;
        i++;
        continue;
      }
      case LOW_BACKSLASH:
      case LOW_U: {
        if (b != (st == LOW_BACKSLASH ? BACKSLASH : 0x75)) {
          return fail(E_UNPAIRED_SURROGATE, i, high, 0);
        }
        if (st == LOW_U) {
          hex = 0;
          hexDigits = 0;
        }
        st = st == LOW_BACKSLASH ? LOW_U : HEX;
        i++;
        continue;
      }
      case LITERAL: {
        if (b != <i32> load<u8>(LITERALS + <usize> literal)) {
          return b == LF
            ? fail(E_LINE_ENDS, i, b, 0)
            : fail(E_EXPECTED_LITERAL, i, b, literalEnd);
        }
        putVal(b);
        literal++;
        if (literal == literalEnd) {
          if (depth == 1 && !endValue(literalEnd == NULL_AT + 4, i)) {
            return -1;
          }
          st = AFTER_VALUE;
        }
        i++;
        continue;
      }
      case NUM_MINUS:
      case NUM_DOT:
      case NUM_E_SIGN: {
        if (b < 0x30 || b > 0x39) return unexpected(E_EXPECTED_DIGIT, b, i);
        putVal(b);
        st = st == NUM_MINUS
          ? (b == 0x30 ? NUM_ZERO : NUM_INT)
          : st == NUM_DOT
          ? NUM_FRAC
          : NUM_E_DIGITS;
        i++;
        continue;
      }
      case NUM_E: {
        if (b == 0x2b || b == 0x2d) { // + -
          st = NUM_E_SIGN;
        } else if (b >= 0x30 && b <= 0x39) {
          st = NUM_E_DIGITS;
        } else {
          return unexpected(E_EXPECTED_EXPONENT, b, i);
        }
        putVal(b);
        i++;
        continue;
      }
      case NUM_ZERO:
      case NUM_INT:
      case NUM_FRAC:
      case NUM_E_DIGITS: {
        // Copy the digit run in one tight loop.
        let c = b;
        if (st != NUM_ZERO) {
          const vals = VALS;
          let p = valPos;
          while (c >= 0x30 && c <= 0x39) {
            store<u8>(vals + <usize> p, c);
            p++;
            if (++i == n) break;
            c = <i32> load<u8>(inp + <usize> i);
          }
          valPos = p;
        }
        if (i == n) continue;
        if (c == 0x2e && st <= NUM_INT) { // .
          putVal(c);
          st = NUM_DOT;
          i++;
        } else if ((c == 0x65 || c == 0x45) && st != NUM_E_DIGITS) {
          putVal(c);
          st = NUM_E;
          i++;
        } else if (c >= 0x30 && c <= 0x39) {
          return fail(E_LEADING_ZERO, i, c, 0);
        } else {
          // The number ended: `c` is read again after it.
          if (depth == 1 && !endValue(false, i)) return -1;
          st = AFTER_VALUE;
        }
        continue;
      }
    }
  }
  state = st;
  sync();
  return i;
}

/** Rebases positions that outlive the chunk onto the next one. */
export function endChunk(): void {
  if (markIndex >= 0) {
    markColumn = columnAt(markIndex);
    markIndex = -1;
  }
  markOffset -= size;
  lineStart -= size;
  advanceColumn(size);
  setRegister(REG_LINES, line);
  size = 0;
  colIndex = 0;
  line = 0;
}

/**
 * Ends the input. Returns 0, -1 on an error, or -2 when the last row does
 * not fit in the output (`REG_NEED` says how many bytes it needs).
 */
export function finish(): i32 {
  rows = 0;
  setRegister(REG_ERROR, 0);
  setRegister(REG_NEED, 0);
  setRegister(REG_REJECT, 0);
  setRegister(REG_REJECT_END, -1);
  if (state == AFTER_RECORD) {
    if (!fits()) {
      sync();
      return -2;
    }
    endRecord(0);
    state = LINE_START;
  } else if (state == SKIP_LINE) {
    // The malformed record's line is the rest of the input.
    state = LINE_START;
    setRegister(REG_REJECT_END, 0);
  } else if (state != LINE_START) {
    const result = fail(E_INPUT_ENDS, 0, 0, 0);
    if (!rejecting) return result;
    reject();
    state = LINE_START;
    setRegister(REG_REJECT_END, 0);
  }
  sync();
  return 0;
}

/** The rows were taken: empties the output. */
export function clearOutput(): void {
  pos = 0;
  sync();
}

/**
 * Closes the innermost object or array (its closing byte is at input
 * index `i`). Returns the state after it, or -1 on an error.
 */
function close(i: i32): i32 {
  if (depth == 1) {
    if (
      laneField >= 0 &&
      load<u32>(SEEN + (<usize> laneField << 2)) != stamp
    ) {
      return fail(E_MISSING_LANE, i, 0, 0);
    }
    depth = 0;
    return AFTER_RECORD;
  }
  putVal(load<u8>(STACK + <usize> depth) == OBJECT ? 0x7d : 0x5d);
  depth--;
  if (depth == 1) endValue(false, i);
  return AFTER_VALUE;
}

/**
 * The string's closing quote is at input index `i`. Returns the state
 * after it, or -1 on an error.
 */
function endString(i: i32): i32 {
  if (mode == KEY_STRING) return endKey() ? COLON : -1;
  if (mode == VALUE_STRING) {
    endValue(false, i);
    return AFTER_VALUE;
  }
  putEscaped(DQUOTE);
  return mode == RAW_KEY ? COLON : AFTER_VALUE;
}

/** The record's key is read: finds its column. False on an error. */
function endKey(): bool {
  const length = keyLen;
  // Keys usually come in column order: try the next column first.
  let c = col + 1 < count ? col + 1 : 0;
  let tried = 0;
  for (; tried < count; tried++) {
    const start = load<u32>(STARTS + (<usize> c << 2));
    const end = load<u32>(STARTS + (<usize> (c + 1) << 2));
    if (<i32> (end - start) == length) {
      if (memory.compare(NAMES + <usize> start, KEYS, <usize> length) == 0) {
        break;
      }
    }
    c = c + 1 < count ? c + 1 : 0;
  }
  if (tried == count) {
    if (!skipUnknown) return failAtKey(E_UNKNOWN_KEY);
    col = count; // its value is read, and left out
    return true;
  }
  if (load<u32>(SEEN + (<usize> c << 2)) == stamp) {
    return failAtKey(E_DUPLICATE_KEY);
  }
  store<u32>(SEEN + (<usize> c << 2), stamp);
  col = c;
  return true;
}

/**
 * The current record value ends (its last byte at input index `i`): NULL
 * rule, closing quote, lane check. False on an error.
 */
function endValue(isNull: bool, i: i32): bool {
  if (isNull) {
    if (col == laneField) {
      fail(E_NULL_LANE, i, 0, 0);
      setRegister(REG_ERROR_COLUMN, getRegister(REG_ERROR_COLUMN) - 3);
      return false;
    }
    valPos = valStart;
    store<i32>(COL_START + (<usize> col << 2), -1);
    return true;
  }
  if (csvOut) putVal(DQUOTE);
  store<i32>(COL_START + (<usize> col << 2), valStart);
  store<i32>(COL_END + (<usize> col << 2), valPos);
  return true;
}

/** Whether the record in progress fits in the output as a row. */
function fits(): bool {
  const need = pos + valPos + 3 * count + 1;
  if (need <= outCapacity) return true;
  setRegister(REG_NEED, need);
  return false;
}

/**
 * Ends the record, which ends at input offset `end`: its row goes to the
 * output in column order, its metadata to the arrays.
 */
function endRecord(end: i32): void {
  const out = OUT;
  const vals = VALS;
  const row = rows;
  let p = pos;
  let first = true;
  for (let c = 0; c < count; c++) {
    if (load<u8>(KEEP + <usize> c) == 0) continue; // a column left out
    if (!first) {
      store<u8>(out + <usize> p, outDelimiter);
      p++;
    }
    first = false;
    const start = load<u32>(SEEN + (<usize> c << 2)) == stamp
      ? load<i32>(COL_START + (<usize> c << 2))
      : -1;
    if (start >= 0) {
      const stop = load<i32>(COL_END + (<usize> c << 2));
      if (c == laneField) {
        const skip = csvOut ? 1 : 0;
        setMeta(META_LANE_START, row, p + skip);
        setMeta(META_LANE_END, row, p + stop - start - skip);
        setMeta(
          META_LANE_HASH,
          row,
          fnv1a(vals + <usize> (start + skip), stop - start - 2 * skip),
        );
      }
      memory.copy(
        out + <usize> p,
        vals + <usize> start,
        <usize> (stop - start),
      );
      p += stop - start;
    } else if (!csvOut) {
      store<u8>(out + <usize> p, BACKSLASH);
      store<u8>(out + <usize> p + 1, 0x4e); // N
      p += 2;
    }
  }
  store<u8>(out + <usize> p, LF);
  p++;
  pos = p;
  valPos = 0;
  setMeta(META_ROW_END, row, p);
  setMeta(META_LINE, row, line);
  setMeta(META_END, row, end);
  rows = row + 1;
}

/** A lead byte of a multibyte character, inside a string. */
function utf8Lead(b: i32, i: i32): bool {
  if (b >= 0xc2 && b <= 0xdf) {
    utf8Need = 1;
  } else if (b >= 0xe0 && b <= 0xef) {
    utf8Need = 2;
    if (b == 0xe0) utf8Low = 0xa0;
    if (b == 0xed) utf8High = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    utf8Need = 3;
    if (b == 0xf0) utf8Low = 0x90;
    if (b == 0xf4) utf8High = 0x8f;
  } else {
    fail(E_INVALID_UTF8, i, b, 0);
    return false;
  }
  utf8LeadByte = b;
  utf8Read = 1;
  putString(b);
  return true;
}

/**
 * A byte that must continue a multibyte character. One that does not is
 * reported where the character starts (arg2: its lead byte).
 */
function utf8Continue(b: i32, i: i32): bool {
  if (b < utf8Low || b > utf8High) {
    // The lead byte is the last one before `i` that starts a character.
    failAt(E_INVALID_UTF8, columnAt(i) - 1, i - utf8Read, b, utf8LeadByte);
    return false;
  }
  utf8Read++;
  utf8Need--;
  utf8Low = 0x80;
  utf8High = 0xbf;
  putString(b);
  return true;
}

/**
 * The fourth hex digit of `\uXXXX` is at input index `i`. Returns the
 * state after it, or -1 on an error.
 */
function endHex(i: i32): i32 {
  const unit = hex;
  if (mode >= RAW_KEY) return STRING;
  if (high != 0) {
    const h = high;
    high = 0;
    if (unit < 0xdc00 || unit > 0xdfff) {
      return fail(E_UNPAIRED_SURROGATE, i, h, 0);
    }
    putCodePoint(0x10000 + ((h - 0xd800) << 10) + (unit - 0xdc00));
    return STRING;
  }
  if (unit >= 0xd800 && unit <= 0xdbff) {
    high = unit;
    return LOW_BACKSLASH;
  }
  if (unit >= 0xdc00 && unit <= 0xdfff) {
    return fail(E_UNPAIRED_SURROGATE, i, unit, 0);
  }
  // A value's NUL reaches no column (a key's names none: it is unknown);
  // a value left out holds what it likes.
  if (
    unit == 0 && mode == VALUE_STRING && load<u8>(KEEP + <usize> col) != 0
  ) {
    return fail(E_NUL_ESCAPE, i, 0, 0);
  }
  putCodePoint(unit);
  return STRING;
}

function putCodePoint(cp: i32): void {
  if (cp < 0x80) {
    putString(cp);
  } else if (cp < 0x800) {
    putString(0xc0 | (cp >> 6));
    putString(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    putString(0xe0 | (cp >> 12));
    putString(0x80 | ((cp >> 6) & 0x3f));
    putString(0x80 | (cp & 0x3f));
  } else {
    putString(0xf0 | (cp >> 18));
    putString(0x80 | ((cp >> 12) & 0x3f));
    putString(0x80 | ((cp >> 6) & 0x3f));
    putString(0x80 | (cp & 0x3f));
  }
}

/** A string's byte: a key's as is, a value's in COPY form. */
function putString(b: i32): void {
  if (mode == KEY_STRING) {
    store<u8>(KEYS + <usize> keyLen, b);
    keyLen++;
  } else {
    putEscaped(b);
  }
}

function putVal(b: i32): void {
  store<u8>(VALS + <usize> valPos, b);
  valPos++;
}

function putEscaped(b: i32): void {
  if (csvOut) {
    if (b == DQUOTE) putVal(DQUOTE);
    putVal(b);
    return;
  }
  switch (b) {
    case BACKSLASH:
      putVal(BACKSLASH);
      putVal(BACKSLASH);
      return;
    case TAB:
      putVal(BACKSLASH);
      putVal(0x74); // t
      return;
    case LF:
      putVal(BACKSLASH);
      putVal(0x6e); // n
      return;
    case CR:
      putVal(BACKSLASH);
      putVal(0x72); // r
      return;
    default:
      putVal(b);
  }
}

/** A new line starts at input index `i`. */
function newLine(i: i32): void {
  line++;
  lineStart = i;
  colIndex = i;
  colCount = 0;
}

function advanceColumn(to: i32): void {
  let counted = colCount;
  for (let k = colIndex; k < to; k++) {
    if ((<i32> load<u8>(INPUT + <usize> k) & 0xc0) != 0x80) counted++;
  }
  colCount = counted;
  if (to > colIndex) colIndex = to;
}

/** 1-based column of input index `i` on the current line. */
function columnAt(i: i32): i32 {
  advanceColumn(i);
  return colCount + 1;
}

/** Byte `b` at input index `i` is not what the grammar allows there. */
function unexpected(code: i32, b: i32, i: i32): i32 {
  return fail(b == LF ? E_LINE_ENDS : code, i, b, 0);
}

/** Reports error `code` at input index `i`. Returns -1. */
function fail(code: i32, i: i32, arg1: i32, arg2: i32): i32 {
  return failAt(code, columnAt(i), i, arg1, arg2);
}

/** Reports error `code` at the current key's opening quote. */
function failAtKey(code: i32): bool {
  const column = markIndex >= 0 ? columnAt(markIndex) : markColumn;
  failAt(code, column, markOffset, 0, 0);
  return false;
}

/** Reports error `code` at `column` and input index `offset`. Returns -1. */
function failAt(
  code: i32,
  column: i32,
  offset: i32,
  arg1: i32,
  arg2: i32,
): i32 {
  setRegister(REG_ERROR, code);
  setRegister(REG_ERROR_LINE, line);
  setRegister(REG_ERROR_COLUMN, column);
  setRegister(REG_ERROR_OFFSET, offset);
  setRegister(REG_ERROR_ARG1, arg1);
  setRegister(REG_ERROR_ARG2, arg2);
  sync();
  return -1;
}

/** The byte a one-character JSON escape stands for, or -1. */
function unescape(b: i32): i32 {
  switch (b) {
    case DQUOTE:
    case BACKSLASH:
    case 0x2f: // /
      return b;
    case 0x62: // b
      return 0x08;
    case 0x66: // f
      return 0x0c;
    case 0x6e: // n
      return LF;
    case 0x72: // r
      return CR;
    case 0x74: // t
      return TAB;
    default:
      return -1;
  }
}

function hexValue(b: i32): i32 {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

/** FNV-1a over `length` bytes at `at`. */
function fnv1a(at: usize, length: i32): i32 {
  let hash: u32 = 0x811c9dc5;
  for (let k = 0; k < length; k++) {
    hash = (hash ^ <u32> load<u8>(at + <usize> k)) * 0x01000193;
  }
  return <i32> hash;
}

/** Publishes the counters the caller reads. */
function sync(): void {
  setRegister(REG_POS, pos);
  setRegister(REG_ROWS, rows);
  setRegister(REG_KEY_LENGTH, keyLen);
  setRegister(REG_VAL_POS, valPos);
  setRegister(REG_DEPTH, depth);
}

function setRegister(index: i32, value: i32): void {
  store<i32>(REG + (<usize> index << 2), value);
}

function getRegister(index: i32): i32 {
  return load<i32>(REG + (<usize> index << 2));
}

function setMeta(array: i32, row: i32, value: i32): void {
  store<i32>(META + (<usize> (array * ROW_CAPACITY + row) << 2), value);
}
