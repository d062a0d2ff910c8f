/**
 * The NDJSON scan core's error codes (`E_*`) in words, for
 * `InputSyntaxError`: what was expected, and what was found.
 *
 * @module
 */

import {
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
} from "./_ndjson_constants.ts";

/** What an error's words may name besides its code and details. */
export interface NdjsonErrorContext {
  /** The key the core holds (for an unknown or duplicate key). */
  key: () => string;
  /** The target columns. */
  columns: readonly string[];
  /** The lane column's name, if any. */
  laneColumn: string | undefined;
}

/**
 * The reason for an error the core reported.
 *
 * @param code The error code (`REG_ERROR`).
 * @param b Its first detail (`REG_ERROR_ARG1`: a byte, or a UTF-16 unit).
 * @param arg2 Its second detail (`REG_ERROR_ARG2`: which literal, or the
 * lead byte of a character).
 * @param context The key, the columns and the lane column.
 * @returns The reason, in sentence case.
 *
 * @example Usage
 * ```ts
 * import { ndjsonErrorReason } from "./_ndjson_error_reason.ts";
 * import { E_EXPECTED_COLON, E_UNKNOWN_KEY } from "./_ndjson_constants.ts";
 * import assert from "node:assert/strict";
 *
 * const context = { key: () => "x", columns: ["a", "b"], laneColumn: undefined };
 * assert.equal(
 *   ndjsonErrorReason(E_EXPECTED_COLON, 0x2c, 0, context),
 *   'Cannot parse record: expected : after the key, found ","',
 * );
 * assert.equal(
 *   ndjsonErrorReason(E_UNKNOWN_KEY, 0, 0, context),
 *   'Cannot parse record: key "x" is not a column (columns: a, b)',
 * );
 * ```
 */
export function ndjsonErrorReason(
  code: number,
  b: number,
  arg2: number,
  context: NdjsonErrorContext,
): string {
  const found = describe(b);
  const expected = (what: string) =>
    `Cannot parse record: expected ${what}, found ${found}`;
  switch (code) {
    case E_EXPECTED_OBJECT:
      return expected("a JSON object");
    case E_EXPECTED_KEY_OR_END:
      return expected("a key or }");
    case E_EXPECTED_KEY:
      return expected("a key");
    case E_EXPECTED_COLON:
      return expected(": after the key");
    case E_EXPECTED_VALUE:
      return expected("a value");
    case E_EXPECTED_VALUE_OR_END:
      return expected("a value or ]");
    case E_EXPECTED_COMMA_OR_BRACE:
      return expected(", or }");
    case E_EXPECTED_COMMA_OR_BRACKET:
      return expected(", or ]");
    case E_EXPECTED_LINE_END:
      return expected("the end of the line after the object");
    case E_EXPECTED_HEX:
      return expected("a hex digit (\\u needs four)");
    case E_EXPECTED_LITERAL:
      return expected(`"${literalText(arg2)}"`);
    case E_EXPECTED_DIGIT:
      return expected("a digit");
    case E_EXPECTED_EXPONENT:
      return expected("a digit or a sign");
    case E_LEADING_ZERO:
      return "Cannot parse record: a number starts with 0 and another digit";
    case E_LINE_ENDS:
      return "Cannot parse record: the line ends before the object is closed (each record is one line)";
    case E_INPUT_ENDS:
      return "Cannot parse record: the input ends before the object is closed";
    case E_CONTROL_CHARACTER:
      return `Cannot parse record: control character U+${
        hex4(b)
      } in a string (write it as an escape)`;
    case E_BAD_ESCAPE:
      return `Cannot parse record: invalid escape \\${
        b > 0x20 && b < 0x7f ? String.fromCharCode(b) : found
      } in a string (expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)`;
    case E_NUL_ESCAPE:
      return "Cannot parse record: \\u0000 in a string, a NUL character, which PostgreSQL text cannot hold";
    case E_UNPAIRED_SURROGATE:
      return `Cannot parse record: \\u${
        hex4(b)
      } is half of a surrogate pair, without its other half`;
    case E_INVALID_UTF8:
      return arg2 === 0
        ? `Cannot parse record: invalid UTF-8 (byte ${hexByte(b)})`
        : `Cannot parse record: invalid UTF-8 (byte ${
          hexByte(b)
        } cannot continue the character that starts with ${hexByte(arg2)})`;
    case E_UNKNOWN_KEY:
      return `Cannot parse record: key "${context.key()}" is not a column (columns: ${
        context.columns.join(", ")
      })`;
    case E_DUPLICATE_KEY:
      return `Cannot parse record: key "${context.key()}" appears twice`;
    case E_NULL_LANE:
      return `Cannot read lane key: key "${context.laneColumn}" is null (every record needs a lane)`;
    case E_MISSING_LANE:
      return `Cannot read lane key: key "${context.laneColumn}" is missing (every record needs a lane)`;
    default:
      return `Cannot parse record: unknown codec error ${code}`;
  }
}

function hex4(unit: number): string {
  return unit.toString(16).toUpperCase().padStart(4, "0");
}

/** A byte as `0xAB`. */
function hexByte(b: number): string {
  return `0x${b.toString(16).toUpperCase().padStart(2, "0")}`;
}

/** The literal whose last byte ends at `end` in the core's literal table. */
function literalText(end: number): string {
  return end === 4 ? "true" : end === 9 ? "false" : "null";
}

/** A byte as an error message names it. */
function describe(b: number): string {
  if (b === 0x20) return "a space";
  if (b === DQUOTE) return "a quote";
  if (b > 0x20 && b < 0x7f) return `"${String.fromCharCode(b)}"`;
  if (b < 0x80) return `U+${hex4(b)}`;
  return `byte ${hexByte(b)}`;
}
