/**
 * The target table as a load writes it: checked against the input's columns
 * (or created), and the COPY that fills it.
 *
 * @module
 */

import { DEFAULTS } from "../defaults.ts";
import type { CopyFormat } from "../codec/copy_row.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { tableColumns } from "../target/table_columns.ts";
import {
  formatTableName,
  quoteIdentifier,
  quoteTableName,
  type TableName,
} from "../target/table_name.ts";
import type { CopySpec, Target } from "../target/target.ts";

/**
 * The seq column when none is given (from the config schema).
 *
 * @example Usage
 * ```ts
 * import { DEFAULT_SEQ_COLUMN } from "./prepare_table.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(DEFAULT_SEQ_COLUMN, "lane_seq");
 * ```
 */
export const DEFAULT_SEQ_COLUMN: string = DEFAULTS.seqColumn;

/** Options for {@linkcode prepareTable}. */
export interface PrepareTableOptions {
  /** The open database. */
  target: Target;
  /** The target table. */
  table: TableName;
  /** Target columns in file order; replaces the header's names. */
  columns?: readonly string[];
  /** The header's names, once read (from `CsvDecodeStream.header`). */
  header: Promise<string[] | undefined>;
  /** Create the table (text columns) when it is missing. */
  create?: boolean;
  /** The COPY format the batches are in. */
  format: CopyFormat;
  /**
   * The batches' encoding when it is not UTF-8, PostgreSQL's name: the
   * COPY names it and the server converts the rows.
   */
  encoding?: string;
  /** The lane column: its rows get seqs in `seqColumn`, which must exist. */
  lane?: string;
  /** The column receiving each row's seq. Default `lane_seq`. */
  seqColumn?: string;
  /**
   * Whether the load reserves lane seqs (it keeps bookkeeping): only then
   * does the seq column receive them.
   */
  reservesSeqs: boolean;
}

/** The table as a batch writes it. */
export interface PreparedTable {
  /** The COPY's table, columns (the seq column last, when written) and format. */
  spec: CopySpec;
  /** The input's columns, in file order. */
  columns: string[];
  /** Whether each row gets its lane seq spliced in. */
  writesSeq: boolean;
}

/**
 * Checks the target table against the columns (or creates it, with
 * `create`), and says how the batches are COPYed into it.
 *
 * @param options The table, the columns, and how the load fills them.
 * @returns The table as the batches are written, or `undefined` when there
 * are no column names (no `columns`, and the input has no header).
 *
 * @example Usage
 * ```ts
 * import { prepareTable } from "./prepare_table.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * const prepared = await prepareTable({
 *   target, table: { schema: "public", table: "t" }, header: Promise.resolve(["a", "b"]),
 *   create: true, format: "text", lane: "a", reservesSeqs: true,
 * });
 * assert.deepEqual(prepared?.spec.columns, ["a", "b", "lane_seq"]);
 * assert.equal(prepared?.writesSeq, true);
 * const { rows } = await target.query("select count(*)::int as n from t");
 * assert.equal(rows[0].n, 0);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function prepareTable(
  options: PrepareTableOptions,
): Promise<PreparedTable | undefined> {
  const names = options.columns ?? await options.header;
  if (names === undefined) return undefined;
  const seqColumn = options.seqColumn ?? DEFAULT_SEQ_COLUMN;
  checkNames(options.table, names, seqColumn);
  const existing = await tableColumns(options.target, options.table);
  if (existing === undefined) {
    await createTable(options, names, seqColumn);
  } else {
    checkTable(options, names, seqColumn, existing);
  }
  const writesSeq = options.reservesSeqs &&
    (options.lane !== undefined || (existing?.includes(seqColumn) ?? false));
  return {
    spec: {
      table: options.table,
      columns: writesSeq ? [...names, seqColumn] : names,
      format: options.format,
      encoding: options.encoding,
    },
    columns: [...names],
    writesSeq,
  };
}

/** Refuses input names that fill the seq column or name a column twice. */
function checkNames(
  table: TableName,
  names: readonly string[],
  seqColumn: string,
): void {
  const name = formatTableName(table);
  if (names.includes(seqColumn)) {
    throw new UsageError(
      `Cannot load into ${name}: column "${seqColumn}" receives each row's lane seq, so the input cannot fill it (name another with --seq-column)`,
      ExitCode.BadInput,
    );
  }
  const seen = new Set<string>();
  for (const column of names) {
    if (seen.has(column)) {
      throw new UsageError(
        `Cannot load into ${name}: column "${column}" is named twice`,
        ExitCode.BadInput,
      );
    }
    seen.add(column);
  }
}

/** Creates the missing table (text columns, and the seq column with a lane), or refuses without `create`. */
async function createTable(
  options: PrepareTableOptions,
  names: readonly string[],
  seqColumn: string,
): Promise<void> {
  if (!options.create) {
    throw new UsageError(
      `Cannot load into ${
        formatTableName(options.table)
      }: the table does not exist (pass --create to create it with a text column for each of: ${
        names.join(", ")
      })`,
    );
  }
  const columns = names.map((column) => `${quoteIdentifier(column)} text`);
  if (options.lane !== undefined) {
    columns.push(`${quoteIdentifier(seqColumn)} bigint`);
  }
  await options.target.query(
    `CREATE TABLE IF NOT EXISTS ${quoteTableName(options.table)} (${
      columns.join(", ")
    })`,
  );
}

/** Refuses an existing table that lacks the seq column (with a lane) or one of the input's columns. */
function checkTable(
  options: PrepareTableOptions,
  names: readonly string[],
  seqColumn: string,
  existing: string[],
): void {
  const name = formatTableName(options.table);
  if (options.lane !== undefined && !existing.includes(seqColumn)) {
    throw new UsageError(
      `Cannot load into ${name} with --lane: it has no column "${seqColumn}" to receive each row's seq (add one: ALTER TABLE ${
        quoteTableName(options.table)
      } ADD COLUMN ${
        quoteIdentifier(seqColumn)
      } bigint, or name another with --seq-column)`,
      ExitCode.BadInput,
    );
  }
  const unknown = names.filter((column) => !existing.includes(column));
  if (unknown.length > 0) {
    throw new UsageError(
      `Cannot load into ${name}: it has no column ${
        unknown.map((column) => `"${column}"`).join(", ")
      } (its columns: ${existing.join(", ")})`,
      ExitCode.BadInput,
    );
  }
}
