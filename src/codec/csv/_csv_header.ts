/**
 * Column names in the CSV shell: the header record's, read from the COPY
 * row the core made of it, and the lane column's index among the names.
 *
 * @module
 */

import { type CopyFormat, decodeCopyRow } from "../copy_row.ts";
import { ExitCode, InputSyntaxError, UsageError } from "../../errors.ts";

/**
 * The header's column names, from its COPY row.
 *
 * @param row The header's COPY row, without its line feed.
 * @param format The row's COPY format.
 * @param decode Decodes the input's encoding.
 * @param source The source's name, for the error.
 * @param line The header's line, for the error.
 * @returns The names.
 * @throws {InputSyntaxError} If a column has no name.
 *
 * @example Usage
 * ```ts
 * import { headerNames } from "./_csv_header.ts";
 * import { InputSyntaxError } from "../../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
 * const row = new TextEncoder().encode("id\tnote");
 * assert.deepEqual(headerNames(row, "text", decode, "t.csv", 1), ["id", "note"]);
 * assert.throws(
 *   () => headerNames(new TextEncoder().encode("id\t\\N"), "text", decode, "t.csv", 1),
 *   InputSyntaxError,
 * );
 * ```
 */
export function headerNames(
  row: Uint8Array,
  format: CopyFormat,
  decode: (bytes: Uint8Array) => string,
  source: string,
  line: number,
): string[] {
  return decodeCopyRow(decode(row), format).map((name, index) => {
    if (name === null || name === "") {
      throw new InputSyntaxError(
        `Cannot read header: column ${index + 1} has no name`,
        { source, line, column: 1, offset: 0 },
      );
    }
    return name;
  });
}

/**
 * The lane column's index among `names`.
 *
 * @param laneColumn The lane column's name.
 * @param names The columns' names in field order, `null` for a field the
 * load skips (none: the input has no header).
 * @returns Its index.
 * @throws {UsageError} If no column has that name.
 *
 * @example Usage
 * ```ts
 * import { laneFieldIndex } from "./_csv_header.ts";
 * import { UsageError } from "../../errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(laneFieldIndex("region", ["id", "region"]), 1);
 * assert.throws(() => laneFieldIndex("region", ["id"]), UsageError);
 * ```
 */
export function laneFieldIndex(
  laneColumn: string,
  names: readonly (string | null)[],
): number {
  const index = names.indexOf(laneColumn);
  if (index < 0) {
    throw new UsageError(
      names.length === 0
        ? `Cannot use lane column "${laneColumn}": the input has no header; pass --columns`
        : `Cannot use lane column "${laneColumn}": no such column (columns: ${
          names.filter((name) => name !== null).join(", ")
        })`,
      ExitCode.BadInput,
    );
  }
  return index;
}
