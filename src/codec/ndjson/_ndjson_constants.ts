/**
 * The constants the NDJSON scan cores share: register and metadata
 * indices, error codes, scanning states and string kinds. This file is
 * their one definition: the TypeScript core (`_ndjson_core.ts`) imports it,
 * and so does the AssemblyScript core (`wasm/ndjson_codec.ts`), whose
 * compiler reads it too. So it holds nothing but integer constants with
 * their docs, valid in both languages; `deno task build:wasm --check` fails
 * when the WebAssembly module was built from other values (its source
 * hash covers this file).
 *
 * @module
 */

/** Rows one `scan` call of a core completes at most. */
export const ROW_CAPACITY = 8192;

/** Register: output bytes written (whole rows only). */
export const REG_POS = 0;
/** Register: rows completed by the last call. */
export const REG_ROWS = 1;
/** Register: the error code of the last call, 0 for none. */
export const REG_ERROR = 2;
/** Register: the error's line, relative to the chunk's first line. */
export const REG_ERROR_LINE = 3;
/** Register: the error's 1-based column (code points). */
export const REG_ERROR_COLUMN = 4;
/** Register: the error's byte offset, relative to the chunk. */
export const REG_ERROR_OFFSET = 5;
/** Register: the error's first detail (a byte, or a UTF-16 unit). */
export const REG_ERROR_ARG1 = 6;
/** Register: the error's second detail (which literal). */
export const REG_ERROR_ARG2 = 7;
/** Register: lines the last chunk advanced (set by `endChunk`). */
export const REG_LINES = 8;
/** Register: bytes of the key being read (for an error about it). */
export const REG_KEY_LENGTH = 9;
/** Register: bytes of the record in progress (its values so far). */
export const REG_VAL_POS = 10;
/** Register: nesting depth (1 inside a record's object). */
export const REG_DEPTH = 11;
/** Register: output bytes a stopped call needs (WASM only; 0 if none). */
export const REG_NEED = 12;
/**
 * Register: 1 when the last call met a malformed record in reject mode (the
 * error registers say what and where); the core skips its line and goes on.
 */
export const REG_REJECT = 13;
/** Register: that record's line's first byte, relative to the chunk (may be negative). */
export const REG_REJECT_START = 14;
/**
 * Register: where the malformed line being skipped ended in the last call
 * (just after its line feed, relative to the chunk), or -1 when it has not
 * ended yet.
 */
export const REG_REJECT_END = 15;

/** Metadata array: the row's end in the output (exclusive). */
export const META_ROW_END = 0;
/** Metadata array: the record's line, relative to the chunk. */
export const META_LINE = 1;
/** Metadata array: the record's end offset, relative to the chunk. */
export const META_END = 2;
/** Metadata array: the lane value's content start in the output. */
export const META_LANE_START = 3;
/** Metadata array: the lane value's content end in the output. */
export const META_LANE_END = 4;
/** Metadata array: FNV-1a hash of the lane value's encoded bytes. */
export const META_LANE_HASH = 5;

/** Error: a line starts with something other than `{` (arg1: the byte). */
export const E_EXPECTED_OBJECT = 1;
/** Error: expected a key or `}` (arg1: the byte). */
export const E_EXPECTED_KEY_OR_END = 2;
/** Error: expected a key after `,` (arg1: the byte). */
export const E_EXPECTED_KEY = 3;
/** Error: expected `:` after a key (arg1: the byte). */
export const E_EXPECTED_COLON = 4;
/** Error: expected a value (arg1: the byte). */
export const E_EXPECTED_VALUE = 5;
/** Error: expected a value or `]` (arg1: the byte). */
export const E_EXPECTED_VALUE_OR_END = 6;
/** Error: expected `,` or `}` (arg1: the byte). */
export const E_EXPECTED_COMMA_OR_BRACE = 7;
/** Error: expected `,` or `]` (arg1: the byte). */
export const E_EXPECTED_COMMA_OR_BRACKET = 8;
/** Error: something after the record's object (arg1: the byte). */
export const E_EXPECTED_LINE_END = 9;
/** Error: `\u` without four hex digits (arg1: the byte). */
export const E_EXPECTED_HEX = 10;
/** Error: a misspelt literal (arg1: the byte; arg2: the literal's end). */
export const E_EXPECTED_LITERAL = 11;
/** Error: a number lacks a digit (arg1: the byte). */
export const E_EXPECTED_DIGIT = 12;
/** Error: an exponent lacks a digit or sign (arg1: the byte). */
export const E_EXPECTED_EXPONENT = 13;
/** Error: a number starts with 0 and another digit. */
export const E_LEADING_ZERO = 14;
/** Error: the line ends inside the record. */
export const E_LINE_ENDS = 15;
/** Error: the input ends inside the record. */
export const E_INPUT_ENDS = 16;
/** Error: a raw control character in a string (arg1: the byte). */
export const E_CONTROL_CHARACTER = 17;
/** Error: an unknown escape (arg1: the byte after the backslash). */
export const E_BAD_ESCAPE = 18;
/** Error: half a surrogate pair (arg1: the UTF-16 unit). */
export const E_UNPAIRED_SURROGATE = 19;
/** Error: invalid UTF-8 (arg1: the byte). */
export const E_INVALID_UTF8 = 20;
/** Error: a key that is no column (the key buffer holds it). */
export const E_UNKNOWN_KEY = 21;
/** Error: a key given twice (the key buffer holds it). */
export const E_DUPLICATE_KEY = 22;
/** Error: the lane value is null. */
export const E_NULL_LANE = 23;
/** Error: the lane key is missing. */
export const E_MISSING_LANE = 24;
/** Error: `\u0000` in a string, which PostgreSQL text cannot hold. */
export const E_NUL_ESCAPE = 25;

/** Where `null` starts in the literals `truefalsenull`. */
export const NULL_AT = 9;

/** Scanning state, between tokens: at a line's start (a record's `{` or a blank line). */
export const LINE_START = 0;
/** Scanning state: after `{`, a key or `}`. */
export const KEY_OR_END = 1;
/** Scanning state: after `,` in an object, a key. */
export const KEY = 2;
/** Scanning state: after a key, `:`. */
export const COLON = 3;
/** Scanning state: a value. */
export const VALUE = 4;
/** Scanning state: after `[`, a value or `]`. */
export const VALUE_OR_END = 5;
/** Scanning state: after a value, `,` or the closing bracket. */
export const AFTER_VALUE = 6;
/** Scanning state: after the record's `}`, the line's end. */
export const AFTER_RECORD = 7;
/** Scanning state, inside a token: a string. */
export const STRING = 8;
/** Scanning state: after a backslash in a string. */
export const ESCAPE = 9;
/** Scanning state: the hex digits of `\u`. */
export const HEX = 10;
/** Scanning state: after a high surrogate, the `\` of its low half. */
export const LOW_BACKSLASH = 11;
/** Scanning state: after a high surrogate and `\`, the `u` of its low half. */
export const LOW_U = 12;
/** Scanning state: a literal (`true`, `false`, `null`). */
export const LITERAL = 13;
/** Scanning state: a number after its minus sign. */
export const NUM_MINUS = 14;
/** Scanning state: a number's leading zero. */
export const NUM_ZERO = 15;
/** Scanning state: a number's integer digits. */
export const NUM_INT = 16;
/** Scanning state: after a number's decimal point. */
export const NUM_DOT = 17;
/** Scanning state: a number's fraction digits. */
export const NUM_FRAC = 18;
/** Scanning state: after a number's `e` or `E`. */
export const NUM_E = 19;
/** Scanning state: after the exponent's sign. */
export const NUM_E_SIGN = 20;
/** Scanning state: the exponent's digits. */
export const NUM_E_DIGITS = 21;
/** Scanning state: skipping the rest of a malformed record's line. */
export const SKIP_LINE = 22;

/** String kind: a record key (unescaped). */
export const KEY_STRING = 0;
/** String kind: a record value (unescaped). */
export const VALUE_STRING = 1;
/** String kind: a key inside a nested value (copied as written). */
export const RAW_KEY = 2;
/** String kind: a string value inside a nested value (copied as written). */
export const RAW_VALUE = 3;

/** Nesting stack entry: an object. */
export const OBJECT = 0;
/** Nesting stack entry: an array. */
export const ARRAY = 1;

/** Byte: line feed. */
export const LF = 0x0a;
/** Byte: carriage return. */
export const CR = 0x0d;
/** Byte: tab, COPY text's delimiter. */
export const TAB = 0x09;
/** Byte: space. */
export const SPACE = 0x20;
/** Byte: backslash. */
export const BACKSLASH = 0x5c;
/** Byte: double quote. */
export const DQUOTE = 0x22;
