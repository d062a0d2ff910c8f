/**
 * The constants the CSV frame cores share: register and metadata indices,
 * error codes, charsets, framing states and byte classes. This file is
 * their one definition: the TypeScript core (`_csv_core.ts`) imports it,
 * and so does the AssemblyScript core (`wasm/csv_codec.ts`), whose
 * compiler reads it too. So it holds nothing but
 * `export const NAME = <integer>;` lines with their docs, valid in both
 * languages; `deno task build:wasm --check` fails when the WebAssembly
 * module was built from other values (its source hash covers this file).
 *
 * @module
 */

/** Rows one `frame` call of a core completes at most. */
export const ROW_CAPACITY = 8192;

/** Fields a keep mask covers at most (a byte each). */
export const KEEP_CAPACITY = 65536;

/** Register: output bytes written. */
export const REG_POS = 0;
/** Register: where the record in progress starts in the output. */
export const REG_RECORD_START = 1;
/** Register: rows completed by the last call. */
export const REG_ROWS = 2;
/** Register: the error code of the last call, 0 for none. */
export const REG_ERROR = 3;
/** Register: the error's line, relative to the chunk's first line. */
export const REG_ERROR_LINE = 4;
/** Register: the error's 1-based column (code points). */
export const REG_ERROR_COLUMN = 5;
/** Register: the error's byte offset, relative to the chunk. */
export const REG_ERROR_OFFSET = 6;
/** Register: the error's first detail (fields expected). */
export const REG_ERROR_ARG1 = 7;
/** Register: the error's second detail (fields found). */
export const REG_ERROR_ARG2 = 8;
/** Register: lines the last chunk advanced (set by `endChunk`). */
export const REG_LINES = 9;
/**
 * Register: 1 when the last call met a malformed record in reject mode (the
 * error registers say what and where); the core skips it and goes on.
 */
export const REG_REJECT = 10;
/** Register: that record's first byte, relative to the chunk (may be negative). */
export const REG_REJECT_START = 11;
/** Register: that record's first line, relative to the chunk's first line. */
export const REG_REJECT_LINE = 12;
/**
 * Register: where the malformed record being skipped ended in the last call
 * (just after its line break, relative to the chunk), or -1 when it has
 * not ended yet.
 */
export const REG_REJECT_END = 13;
/** Register: at that end, the line the next record starts on (relative). */
export const REG_REJECT_LINES = 14;

/** Metadata array: the row's end in the output (exclusive). */
export const META_ROW_END = 0;
/** Metadata array: the record's first line, relative to the chunk. */
export const META_LINE = 1;
/** Metadata array: the record's end offset, relative to the chunk. */
export const META_END = 2;
/** Metadata array: the lane field's content start in the output. */
export const META_LANE_START = 3;
/** Metadata array: the lane field's content end in the output. */
export const META_LANE_END = 4;
/** Metadata array: FNV-1a hash of the lane field's encoded bytes. */
export const META_LANE_HASH = 5;

/** Error: a quote inside an unquoted field. */
export const E_QUOTE_IN_UNQUOTED = 1;
/** Error: a character after a closing quote. */
export const E_AFTER_CLOSING_QUOTE = 2;
/** Error: more fields than expected (args: expected, field number). */
export const E_TOO_MANY_FIELDS = 3;
/** Error: fewer fields than expected (args: expected, found). */
export const E_TOO_FEW_FIELDS = 4;
/** Error: the lane field is NULL. */
export const E_NULL_LANE = 5;
/** Error: the input is not valid UTF-8. */
export const E_INVALID_UTF8 = 6;
/** Error: a quoted field is still open at the end of input. */
export const E_UNCLOSED_QUOTE = 7;
/** Error: a NUL byte, which PostgreSQL text cannot hold. */
export const E_NUL_BYTE = 8;

/** Charset: UTF-8, validated; columns count code points. */
export const CHARSET_UTF8 = 0;
/** Charset: one byte is one character (not validated; a NUL is refused). */
export const CHARSET_SINGLE_BYTE = 1;
/**
 * Charset: EUC-JP (not validated; a NUL is refused): 0x8F starts a
 * character of 3 bytes, any other byte from 0x80 one of 2.
 */
export const CHARSET_EUC_JP = 2;
/**
 * Charset: EUC-KR, EUC-CN (not validated; a NUL is refused): bytes from
 * 0x80 start 2-byte characters.
 */
export const CHARSET_EUC = 3;

/** Framing state: at a field's start. */
export const FIELD_START = 0;
/** Framing state: inside an unquoted field. */
export const UNQUOTED = 1;
/** Framing state: inside a quoted field. */
export const QUOTED = 2;
/** Framing state: a quote seen inside a quoted field (closing, or doubled). */
export const QUOTE_SEEN = 3;
/** Framing state: a carriage return seen (an LF may follow). */
export const CR_SEEN = 4;
/** Framing state: the escape character seen inside a quoted field. */
export const ESCAPE_SEEN = 5;
/**
 * Skipping a malformed record, by the same framing without its errors:
 * each skip state is its framing state plus `SKIP`.
 */
export const SKIP = 6;
/** Skip state: at a field's start. */
export const SKIP_FIELD_START = 6;
/** Skip state: inside an unquoted field. */
export const SKIP_UNQUOTED = 7;
/** Skip state: inside a quoted field. */
export const SKIP_QUOTED = 8;
/** Skip state: a quote seen inside a quoted field. */
export const SKIP_QUOTE_SEEN = 9;
/** Skip state: a carriage return seen. */
export const SKIP_CR = 10;
/** Skip state: the escape character seen inside a quoted field. */
export const SKIP_ESCAPE = 11;

/** Byte class: data, copied as it is. */
export const PLAIN = 0;
/** Byte class: the delimiter (outside quotes). */
export const DELIMITER = 1;
/** Byte class: the quote. */
export const QUOTE = 2;
/** Byte class: the escape character (inside quotes). */
export const ESCAPE = 3;
/** Byte class: a line feed. */
export const LINE_FEED = 4;
/** Byte class: a carriage return (outside quotes). */
export const CARRIAGE_RETURN = 5;
/** Byte class: data the COPY format escapes. */
export const ENCODE = 6;

/** Byte: line feed. */
export const LF = 0x0a;
/** Byte: carriage return. */
export const CR = 0x0d;
/** Byte: tab, COPY text's delimiter. */
export const TAB = 0x09;
/** Byte: backslash, COPY text's escape. */
export const BACKSLASH = 0x5c;
/** Byte: double quote. */
export const DQUOTE = 0x22;
/** Byte: comma, COPY csv's delimiter. */
export const COMMA = 0x2c;
