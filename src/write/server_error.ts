/**
 * A server's error, read once: the fields pg and PGlite share (pg-protocol's
 * `DatabaseError`), which of them rejects data, the COPY line it names, and
 * the {@linkcode DatabaseLoadError} placed at that record's source line.
 *
 * @module
 */

import {
  DatabaseLoadError,
  rejectsData,
  type ServerErrorFields,
} from "../errors.ts";
import { type Batch, rowCount } from "../codec/row_block.ts";
import type { TableName } from "../target/table_name.ts";

/** An error the server sent: an `Error` with the server's fields. */
export interface ServerError extends Error, ServerErrorFields {
  /** SQLSTATE. */
  code: string;
}

/**
 * The COPY line in a server error's context, which may follow other context
 * (a json value's own `JSON data, line 1: …`): the line, then the column and
 * the value when the server names them.
 */
const COPY_LINE = /^COPY .*?, line (\d+)(?:, column ([^:]+)(?:: (.*))?)?/m;

/**
 * Whether an error came from the server (pg and PGlite both throw pg-protocol's
 * `DatabaseError`, which has a SQLSTATE `code` and a `severity`).
 *
 * @param error Anything thrown.
 * @returns Whether it is a server error.
 *
 * @example Usage
 * ```ts
 * import { isServerError } from "./server_error.ts";
 * import assert from "node:assert/strict";
 *
 * const error = Object.assign(new Error("x"), { code: "57P01", severity: "FATAL" });
 * assert.equal(isServerError(error), true);
 * assert.equal(isServerError(new Error("socket hang up")), false);
 * ```
 */
export function isServerError(error: unknown): error is ServerError {
  return error instanceof Error &&
    typeof (error as { code?: unknown }).code === "string" &&
    "severity" in error;
}

/**
 * Whether an error is the server rejecting data (SQLSTATE classes 22, bad
 * values, and 23, constraint violations, also as Citus passes on a
 * worker's), which a smaller part of the batch might not hit.
 *
 * @param error Anything thrown.
 * @returns Whether it is such a server error.
 *
 * @example Usage
 * ```ts
 * import { isRejection } from "./server_error.ts";
 * import assert from "node:assert/strict";
 *
 * const error = Object.assign(new Error("x"), { code: "23503", severity: "ERROR" });
 * assert.equal(isRejection(error), true);
 * assert.equal(isRejection(new Error("socket hang up")), false);
 * const fromWorker = Object.assign(
 *   new Error('new row for relation "t_102075" violates check constraint "t_v_check"'),
 *   { code: "XX000", severity: "ERROR" },
 * );
 * assert.equal(isRejection(fromWorker), true);
 * ```
 */
export function isRejection(error: unknown): error is ServerError {
  return isServerError(error) && rejectsData(error.code, error.message);
}

/**
 * The row of a batch (or of its rows `[from, …)`) that a COPY error names,
 * when it names one.
 *
 * @param error The server's error.
 * @param from The batch row the COPY began with.
 * @returns The row's index in the batch, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { namedRow } from "./server_error.ts";
 * import assert from "node:assert/strict";
 *
 * const error = Object.assign(new Error("bad"), {
 *   code: "22P02", where: 'COPY t, line 3, column q: "x"',
 * });
 * assert.equal(namedRow(error, 10), 12);
 * ```
 */
export function namedRow(
  error: ServerErrorFields,
  from = 0,
): number | undefined {
  const match = error.where ? COPY_LINE.exec(error.where) : null;
  return match ? from + Number(match[1]) - 1 : undefined;
}

/**
 * A server error as a {@linkcode DatabaseLoadError}, placed at the source
 * line of the record the server named (its `where`: `COPY t, line 2,
 * column q: "…"`). A session's end (FATAL, PANIC: a terminated backend, a
 * server shutting down) is no record's fault, so it is not placed. Other
 * errors pass through.
 *
 * @param error Anything thrown while the batch was written.
 * @param batch The rows the COPY sent.
 * @param source The source's name, for the message.
 * @param known The failing row, when it is known otherwise (a search found it).
 * @returns The placed error, or `error` itself when it is not the server's.
 *
 * @example Usage
 * ```ts
 * import { locateServerError } from "./server_error.ts";
 * import { DatabaseLoadError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const batch = {
 *   data: new TextEncoder().encode("1\nx\n"), rowEnds: Uint32Array.of(2, 4),
 *   lines: Float64Array.of(2, 3), endOffsets: Float64Array.of(4, 6),
 *   startOffset: 2, endOffset: 6,
 * };
 * const error = Object.assign(new Error('invalid input syntax for type integer: "x"'), {
 *   code: "22P02", severity: "ERROR", where: 'COPY t, line 2, column n: "x"',
 * });
 * const located = locateServerError(error, batch, "t.csv");
 * assert.ok(located instanceof DatabaseLoadError);
 * assert.equal(located.line, 3);
 * assert.equal(located.columnName, "n");
 * ```
 */
export function locateServerError(
  error: unknown,
  batch: Batch,
  source: string,
  known?: number,
): unknown {
  if (!isServerError(error)) return error;
  if (error.severity === "FATAL" || error.severity === "PANIC") {
    return new DatabaseLoadError(error);
  }
  const match = error.where ? COPY_LINE.exec(error.where) : null;
  const row = known ?? (match ? Number(match[1]) - 1 : -1);
  if (row < 0 || row >= rowCount(batch)) return new DatabaseLoadError(error);
  return new DatabaseLoadError(error, {
    source,
    line: batch.lines[row],
    // A NOT NULL violation names its column in a field, not in the context.
    columnName: match?.[2] ?? error.column,
    value: match?.[3],
  });
}

/**
 * Says the table's name where a server error names the staging or shadow
 * table the rows went into: `relation "lanecopy_staging_…"` becomes the
 * table's, and `replace_…_pkey` the table's `…_pkey`.
 *
 * @param error The error (its message is changed in place).
 * @param copiedInto The table the rows were COPYed into.
 * @param table The target table.
 *
 * @example Usage
 * ```ts
 * import { showTableName } from "./server_error.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new Error('duplicate key value violates unique constraint "replace_0a1b_pkey"');
 * showTableName(
 *   error,
 *   { schema: "lanecopy", table: "replace_0a1b" },
 *   { schema: "public", table: "items" },
 * );
 * assert.equal(error.message, 'duplicate key value violates unique constraint "items_pkey"');
 * ```
 */
export function showTableName(
  error: unknown,
  copiedInto: TableName,
  table: TableName,
): void {
  if (error instanceof Error && copiedInto.table !== table.table) {
    error.message = error.message.replaceAll(copiedInto.table, table.table);
  }
}
