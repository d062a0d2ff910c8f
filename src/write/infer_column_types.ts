/**
 * A table's column types from its values: each value votes for a type
 * (`column_type_rules.ts`), NULLs do not vote, and a column takes the
 * narrowest type every vote fits, else text.
 *
 * @module
 */

import {
  type ColumnType,
  integerType,
  isBoolean,
  isDecimal,
  isIsoDate,
  isJsonContainer,
  isUuid,
  timestampType,
  valueType,
} from "./column_type_rules.ts";

export type { ColumnType } from "./column_type_rules.ts";

/** Each widening type, after the types it holds every value of. */
const WIDENS: Record<string, readonly ColumnType[]> = {
  integer: ["integer", "bigint", "numeric"],
  bigint: ["bigint", "numeric"],
  date: ["date", "timestamp"],
};

/**
 * For each type, whether a value leaves a column of that type as it is:
 * the common case, checked before asking which type the value is.
 */
const KEEPS: Partial<Record<ColumnType, (value: string) => boolean>> = {
  integer: (value) => integerType(value) === "integer",
  bigint: (value) => {
    const type = integerType(value);
    return type === "integer" || type === "bigint";
  },
  numeric: (value) => integerType(value) !== undefined || isDecimal(value),
  boolean: isBoolean,
  date: isIsoDate,
  timestamp: (value) =>
    timestampType(value) === "timestamp" || isIsoDate(value),
  timestamptz: (value) => timestampType(value) === "timestamptz",
  uuid: isUuid,
  jsonb: isJsonContainer,
};

/**
 * The type of a column holding values of both types: the same type; the
 * wider of two numeric types (`integer` < `bigint` < `numeric`) or of
 * `date` and `timestamp` (a date is its midnight); else `text`.
 * `timestamp` and `timestamptz` do not mix (a value without an offset
 * would be read in the session's time zone).
 *
 * @param a One type.
 * @param b Another.
 * @returns The narrowest type taking every value of both.
 *
 * @example Usage
 * ```ts
 * import { widenType } from "./infer_column_types.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(widenType("integer", "bigint"), "bigint");
 * assert.equal(widenType("numeric", "integer"), "numeric");
 * assert.equal(widenType("date", "timestamp"), "timestamp");
 * assert.equal(widenType("date", "timestamptz"), "text");
 * assert.equal(widenType("integer", "boolean"), "text");
 * ```
 */
export function widenType(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b) return a;
  if (WIDENS[a]?.includes(b)) return b;
  if (WIDENS[b]?.includes(a)) return a;
  return "text";
}

/**
 * Column types, voted on row by row. Position `i` of each row is column
 * `i`; a column with no vote (no row, or only NULLs) is text.
 *
 * @example Usage
 * ```ts
 * import { ColumnTypeVotes } from "./infer_column_types.ts";
 * import assert from "node:assert/strict";
 *
 * const votes = new ColumnTypeVotes();
 * votes.add(["1", "2024-05-01", null, "007"]);
 * votes.add(["3000000000", "2024-05-02 10:00", null, "008"]);
 * assert.deepEqual(votes.types(), ["bigint", "timestamp", "text", "text"]);
 * assert.equal(votes.settled(), false);
 * ```
 */
export class ColumnTypeVotes {
  /** Each column's type so far; `undefined`: no vote yet. */
  readonly #types: (ColumnType | undefined)[] = [];
  /** How many columns are text (which no vote can change). */
  #text = 0;

  /**
   * Counts one row's votes.
   *
   * @param row The row's values by column; `null` is NULL.
   */
  add(row: readonly (string | null)[]): void {
    const types = this.#types;
    for (let i = 0; i < row.length; i++) {
      const value = row[i];
      const now = types[i];
      if (value === null || now === "text") continue;
      if (now !== undefined && KEEPS[now]!(value)) continue;
      const type = valueType(value);
      const next = now === undefined ? type : widenType(now, type);
      if (next === now) continue;
      types[i] = next;
      if (next === "text") this.#text++;
    }
  }

  /**
   * Whether every column a row has had is text already, so that no
   * further row (of as many columns) can change the types.
   *
   * @returns Whether the vote is over.
   */
  settled(): boolean {
    return this.#types.length > 0 && this.#text >= this.#types.length;
  }

  /**
   * The types so far.
   *
   * @param columns How many columns to give (default: as many as voted).
   * @returns Each column's type, text where nothing voted.
   */
  types(columns: number = this.#types.length): ColumnType[] {
    return Array.from(
      { length: columns },
      (_, i) => this.#types[i] ?? "text",
    );
  }
}

/**
 * The column types of a set of rows (see {@linkcode ColumnTypeVotes}).
 *
 * @param rows Rows of values by column; `null` is NULL.
 * @param columns How many columns (default: the widest row's).
 * @returns Each column's type.
 *
 * @example Usage
 * ```ts
 * import { inferColumnTypes } from "./infer_column_types.ts";
 * import assert from "node:assert/strict";
 *
 * const types = inferColumnTypes([
 *   ["1", "true", "1.5", "a"],
 *   ["2", "FALSE", "2", null],
 *   [null, null, null, "3"],
 * ]);
 * assert.deepEqual(types, ["integer", "boolean", "numeric", "text"]);
 * ```
 */
export function inferColumnTypes(
  rows: Iterable<readonly (string | null)[]>,
  columns?: number,
): ColumnType[] {
  const votes = new ColumnTypeVotes();
  for (const row of rows) votes.add(row);
  return votes.types(columns);
}
