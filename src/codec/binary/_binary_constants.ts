/**
 * The constants the COPY text -> COPY binary cores share: type codes,
 * register and region indices, result codes, limits and bytes. This file
 * is their one definition: the TypeScript core (`_binary_core.ts` and its
 * parts) imports it, and so does the AssemblyScript core
 * (`wasm/binary_copy.ts`), whose compiler reads it too. So it holds
 * nothing but `export const NAME = <integer>;` lines with their docs, valid
 * in both languages; `deno task build:wasm --check` fails when the
 * WebAssembly module was built from other values (its source hash covers
 * this file).
 *
 * @module
 */

/** Type code: no binary form; every value is a miss (NULL too). */
export const TYPE_NONE = 0;
/** Type code: int2, `[+-]?[0-9]+` in range, 2 bytes. */
export const TYPE_INT2 = 1;
/** Type code: int4, `[+-]?[0-9]+` in range, 4 bytes. */
export const TYPE_INT4 = 2;
/** Type code: int8, `[+-]?[0-9]+` in range, 8 bytes. */
export const TYPE_INT8 = 3;
/** Type code: numeric, plain decimal (no exponent), base-10000 digits. */
export const TYPE_NUMERIC = 4;
/** Type code: float4, by Clinger's fast path, then to the nearest f32. */
export const TYPE_FLOAT4 = 5;
/** Type code: float8, by Clinger's fast path. */
export const TYPE_FLOAT8 = 6;
/** Type code: bool, as PostgreSQL's `parse_bool_with_len`, 1 byte. */
export const TYPE_BOOL = 7;
/** Type code: text, varchar, bpchar, citext, name: the unescaped bytes. */
export const TYPE_TEXT = 8;
/** Type code: json: the unescaped bytes. */
export const TYPE_JSON = 9;
/** Type code: jsonb: version byte 1, then the unescaped bytes. */
export const TYPE_JSONB = 10;
/** Type code: bytea, hex format (`\x` and pairs of hex digits) only. */
export const TYPE_BYTEA = 11;
/** Type code: date, `YYYY-MM-DD`, days since 2000-01-01. */
export const TYPE_DATE = 12;
/** Type code: timestamp, microseconds since 2000-01-01 00:00:00. */
export const TYPE_TIMESTAMP = 13;
/** Type code: timestamptz, microseconds since 2000-01-01 00:00:00 UTC. */
export const TYPE_TIMESTAMPTZ = 14;
/** Type code: uuid, 32 hex digits (8-4-4-4-12 hyphens optional), 16 bytes. */
export const TYPE_UUID = 15;

/**
 * Configuration flag: a timestamptz without an offset is UTC (the session
 * TimeZone is UTC); without it, such a value is a miss.
 */
export const NAIVE_UTC = 1;

/** Fields a row has at most (the type codes' region holds a byte each). */
export const FIELD_CAPACITY = 2048;
/** Digits a numeric value has at most (leading and trailing zeros count). */
export const NUMERIC_MAX_DIGITS = 1000;
/** Significant digits a float's significand has at most (so it is < 2^53). */
export const FLOAT_MAX_DIGITS = 15;
/** The largest power of ten a double holds exactly: 1e22. */
export const FLOAT_MAX_POW10 = 22;
/** An exponent's value is not read past this (it is far outside 1e±22). */
export const EXPONENT_CAP = 100000;
/** The numeric sign of a negative value. */
export const NUMERIC_NEGATIVE = 0x4000;
/** Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch. */
export const EPOCH_2000_DAYS = 10957;
/** Days from 0000-03-01 (proleptic Gregorian) to 1970-01-01. */
export const CIVIL_1970_DAYS = 719468;
/** Seconds in a day. */
export const DAY_SECONDS = 86400;
/** The largest hour an offset may have (PostgreSQL takes less than 16). */
export const MAX_OFFSET_HOURS = 15;

/** Register: the output bytes of the last call. */
export const REG_LENGTH = 0;
/** Register: after a miss, the row (0-based, in the block). */
export const REG_MISS_ROW = 1;
/** Register: after a miss, the field (0-based). */
export const REG_MISS_FIELD = 2;
/** Registers there are (i32 each). */
export const REGISTER_COUNT = 16;

/** Region: the registers. */
export const REGION_REGISTERS = 0;
/** Region: the type codes, a byte per field. */
export const REGION_TYPES = 1;
/** Region: the input rows (valid after `prepare`). */
export const REGION_INPUT = 2;
/** Region: each row's end in the input, u32 (valid after `prepare`). */
export const REGION_ROW_ENDS = 3;
/** Region: each row's seq, f64 (valid after `prepare`). */
export const REGION_SEQS = 4;
/** Region: the output (valid after `prepare`; memory may grow behind it). */
export const REGION_OUTPUT = 5;

/** Result: a value has no binary form here (the miss registers say which). */
export const RESULT_MISS = -1;
/** Result: memory could not grow to hold the output. */
export const RESULT_NO_MEMORY = -2;

/** Bytes: the COPY binary signature's first 4 bytes, `PGCO`, big-endian. */
export const SIGNATURE_1 = 0x5047434f;
/** Bytes: the signature's next 4, `PY\n\xff`. */
export const SIGNATURE_2 = 0x50590aff;
/** Bytes: the signature's last 3, `\r\n\0`, as the top of a big-endian i32. */
export const SIGNATURE_3 = 0x0d0a0000;
/** Bytes in the header: signature 11, flags 4, extension length 4. */
export const HEADER_BYTES = 19;

/** Byte: tab, COPY text's delimiter. */
export const TAB = 0x09;
/** Byte: line feed, the end of a row. */
export const LF = 0x0a;
/** Byte: backslash, COPY text's escape. */
export const BACKSLASH = 0x5c;
/** Byte: `N`, after a backslash the whole field is NULL. */
export const UPPER_N = 0x4e;
/** Byte: `+`. */
export const PLUS = 0x2b;
/** Byte: `-`. */
export const MINUS = 0x2d;
/** Byte: `.`. */
export const DOT = 0x2e;
/** Byte: `:`. */
export const COLON = 0x3a;
/** Byte: space. */
export const SPACE = 0x20;
/** Byte: `0`. */
export const DIGIT_0 = 0x30;
/** Byte: `T`, between a timestamp's date and time. */
export const UPPER_T = 0x54;
/** Byte: `Z`, the UTC offset. */
export const UPPER_Z = 0x5a;
/** Byte: `x`, after a backslash: bytea's hex format. */
export const LOWER_X = 0x78;
/** Byte: `e`, a float's exponent (and `E`, with `CASE_BIT`). */
export const LOWER_E = 0x65;
/** Byte: the bit that makes an ASCII letter lower case. */
export const CASE_BIT = 0x20;
/** Byte: `b`, after a backslash: backspace. */
export const LOWER_B = 0x62;
/** Byte: `f`, after a backslash: form feed. */
export const LOWER_F = 0x66;
/** Byte: `n`, after a backslash: line feed. */
export const LOWER_N = 0x6e;
/** Byte: `r`, after a backslash: carriage return. */
export const LOWER_R = 0x72;
/** Byte: `t`, after a backslash: tab. */
export const LOWER_T = 0x74;
/** Byte: `v`, after a backslash: vertical tab. */
export const LOWER_V = 0x76;
/** Byte: `y`, a bool's `yes`. */
export const LOWER_Y = 0x79;
/** Byte: `o`, a bool's `on` or `off`. */
export const LOWER_O = 0x6f;
/** Byte: `1`, a bool's true. */
export const DIGIT_1 = 0x31;
/** Byte: `"`, a JSON string's quote. */
export const QUOTE = 0x22;
/** Byte: `,`, between JSON members. */
export const COMMA = 0x2c;
/** Byte: `{`. */
export const LEFT_BRACE = 0x7b;
/** Byte: `}`. */
export const RIGHT_BRACE = 0x7d;
/** Byte: `[`. */
export const LEFT_BRACKET = 0x5b;
/** Byte: `]`. */
export const RIGHT_BRACKET = 0x5d;
/** jsonb: objects with more members than this go as they are. */
export const JSONB_MAX_MEMBERS = 64;
/** A byte that is not a hex digit, in the hex digits' value table. */
export const NOT_HEX = 0x10;
/** JSON whitespace: space, tab, LF, CR. */
export const CLASS_SPACE = 1;
/** A byte that ends a bare JSON value: `,:"{}[]`. */
export const CLASS_DELIMITER = 2;
/** A byte a nested value's scan stops at: `"{}[]`. */
export const CLASS_NESTING = 4;
/** A byte a JSON string's scan stops at: `"` and `\`. */
export const CLASS_STRING = 8;
