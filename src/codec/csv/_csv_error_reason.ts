/**
 * The CSV frame core's error codes (`E_*`) in words, for
 * `InputSyntaxError`: what is wrong, and what to do about it.
 *
 * @module
 */

import {
  E_AFTER_CLOSING_QUOTE,
  E_INVALID_UTF8,
  E_NUL_BYTE,
  E_NULL_LANE,
  E_QUOTE_IN_UNQUOTED,
  E_TOO_FEW_FIELDS,
  E_TOO_MANY_FIELDS,
  E_UNCLOSED_QUOTE,
} from "./_csv_constants.ts";

/**
 * The reason for an error the core reported.
 *
 * @param code The error code (`REG_ERROR`).
 * @param expected Its first detail (`REG_ERROR_ARG1`: fields expected).
 * @param found Its second detail (`REG_ERROR_ARG2`: fields found, or the
 * extra field's number).
 * @param laneColumn The lane column's name, if any.
 * @returns The reason, in sentence case.
 *
 * @example Usage
 * ```ts
 * import { csvErrorReason } from "./_csv_error_reason.ts";
 * import { E_NULL_LANE, E_TOO_FEW_FIELDS } from "./_csv_constants.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   csvErrorReason(E_TOO_FEW_FIELDS, 3, 2, undefined),
 *   "Cannot parse record: expected 3 fields, found 2",
 * );
 * assert.match(csvErrorReason(E_NULL_LANE, 0, 0, "region"), /column "region" is NULL/);
 * ```
 */
export function csvErrorReason(
  code: number,
  expected: number,
  found: number,
  laneColumn: string | undefined,
): string {
  switch (code) {
    case E_QUOTE_IN_UNQUOTED:
      return "Cannot parse field: a quote inside an unquoted field (quote the whole field and double the quote)";
    case E_AFTER_CLOSING_QUOTE:
      return "Cannot parse field: a character after a closing quote (expected a delimiter or the end of the line)";
    case E_TOO_MANY_FIELDS:
      return `Cannot parse record: expected ${expected} fields, found more (field ${found} starts here)`;
    case E_TOO_FEW_FIELDS:
      return `Cannot parse record: expected ${expected} fields, found ${found}`;
    case E_NULL_LANE:
      return `Cannot read lane key: column "${laneColumn}" is NULL (every record needs a lane)`;
    case E_INVALID_UTF8:
      return "Cannot decode input: invalid UTF-8 (the input must be UTF-8 text: name its encoding with --encoding, or convert it first, for example with iconv)";
    case E_NUL_BYTE:
      return "Cannot decode input: a NUL byte (0x00), which PostgreSQL text cannot hold (remove it, or load the data as bytea)";
    case E_UNCLOSED_QUOTE:
      return "Cannot parse record: quoted field is not closed before the end of input";
    default:
      return `Cannot parse input: unknown codec error ${code}`;
  }
}
