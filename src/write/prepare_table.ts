/**
 * The target table as a load writes it: checked against the input's columns
 * (or created), and the COPY that fills it.
 *
 * @module
 */

import { DEFAULTS } from "../defaults.ts";
import { type ColumnEntry, loadedColumns } from "../codec/column_entry.ts";
import {
  type ExistingTable,
  type ExtraPolicy,
  resolveFields,
} from "../codec/column_map.ts";
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
import type { ColumnType } from "./column_type_rules.ts";
import { BinaryRows } from "../codec/binary/binary_rows.ts";
import { binaryColumns } from "./binary_columns.ts";
import { conflictKey } from "./conflict_key.ts";
import { createTable } from "./create_table.ts";
import type { CopyFormatChoice } from "./copy_data.ts";
import { ShadowTable } from "./replace_shadow.ts";
import { type ConflictAction, UpsertStaging } from "./upsert_staging.ts";

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
  /**
   * Which column each field loads into (see `ColumnEntry`): by position
   * (replacing the header's names) or by name. Default: the header's names.
   */
  columns?: readonly ColumnEntry[];
  /** The header's names, once read (from `CsvDecodeStream.header`). */
  header: Promise<string[] | undefined>;
  /**
   * The table as the load found it before reading, and what a field whose
   * column it lacks does (see `resolveFields`): what the decoder was
   * given, so that the COPY names the columns of the fields its rows hold.
   */
  into?: ExistingTable;
  /** What a field whose column `into` lacks does. Default `error`. */
  extraColumns?: ExtraPolicy;
  /** The source's name, for messages. */
  source?: string;
  /**
   * Create the table when it is missing (and its schema, when that is
   * missing too), with a column of `columnTypes` for each name.
   */
  create?: boolean;
  /**
   * With `create`: each column's type, by position in the names (`columns`,
   * else the header's); `text` where it has none. Default: all text.
   */
  columnTypes?: readonly ColumnType[];
  /** Called with the DDL `create` ran, in words (`created public.t (id integer, …)`). */
  onNotice?: (message: string) => void;
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
  /**
   * Upsert (`--on-conflict`): what a record whose key the table holds does,
   * and the key (`--key`; default the primary key; with `create`, the new
   * table's primary key).
   */
  onConflict?: { action: ConflictAction; key?: readonly string[] };
  /**
   * Replace (`--replace`): the rows load into the source's shadow table
   * (in the bookkeeping schema), which takes the table's place at the end.
   */
  replace?: {
    metaSchema: string;
    sourceId: string;
    /** A dry run: the swap is rolled back, so its notice says "would". */
    dryRun?: boolean;
  };
  /**
   * `auto` (the default): each batch goes in COPY binary when every column
   * has a binary encoder and every value follows its rules, else in text;
   * `binary`: a batch that cannot is an error; `text`: always text.
   */
  copyFormat?: CopyFormatChoice;
  /** The binary encoder's implementation: WebAssembly (default) or its TypeScript twin. */
  codec?: "wasm" | "ts";
  /**
   * With `create` on a Citus coordinator: the column the new table is
   * distributed by (`--distribute-by`; default the lane column). Refused
   * where Citus is not installed.
   */
  distributeBy?: string;
}

/** The table as a batch writes it. */
export interface PreparedTable {
  /** The target table. */
  table: TableName;
  /**
   * The COPY's table (the target's, or a staging or shadow table), columns
   * (the seq column last, when written) and format.
   */
  spec: CopySpec;
  /**
   * The input's fields in file order, each with the column it loads into
   * (see `resolveFields`): what the source's progress stores.
   */
  columns: ColumnEntry[];
  /** Whether each row gets its lane seq spliced in. */
  writesSeq: boolean;
  /**
   * The name the rows' lanes count under: the table's, `schema.table`
   * (during a replace, the shadow's, until it takes the table's place).
   */
  lanesTarget: string;
  /** Upsert: the staging table `spec` COPYs into, and its move into the table. */
  upsert?: UpsertStaging;
  /** Replace: the shadow table `spec` COPYs into. */
  shadow?: ShadowTable;
  /** The binary encoder of the COPY's columns, when batches may go in binary. */
  binary?: BinaryRows;
  /** `--copy-format binary`: a batch that cannot go in binary stops the load. */
  forced?: boolean;
  /** The source's name, for messages. */
  source?: string;
}

/**
 * Checks the target table against the columns (or creates it, with
 * `create`), and says how the batches are COPYed into it.
 *
 * @param options The table, the columns, and how the load fills them.
 * @returns The table as the batches are written, or `undefined` when there
 * are no column names (no `columns`, and the input has no header; NDJSON
 * with no record to take keys from).
 *
 * @example Usage
 * ```ts
 * import { prepareTable } from "./prepare_table.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * const notices: string[] = [];
 * const prepared = await prepareTable({
 *   target, table: { schema: "sales", table: "t" }, header: Promise.resolve(["a", "b"]),
 *   create: true, columnTypes: ["integer"], format: "text", lane: "a", reservesSeqs: true,
 *   onNotice: (message) => notices.push(message),
 * });
 * assert.deepEqual(prepared?.spec.columns, ["a", "b", "lane_seq"]);
 * assert.equal(prepared?.writesSeq, true);
 * assert.deepEqual(notices, [
 *   "created schema sales",
 *   "created sales.t (a integer, b text, lane_seq bigint)",
 * ]);
 * const { rows } = await target.query("select count(*)::int as n from sales.t");
 * assert.equal(rows[0].n, 0);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function prepareTable(
  options: PrepareTableOptions,
): Promise<PreparedTable | undefined> {
  const fields = resolveFields(await options.header, options);
  if (fields === undefined || fields.length === 0) return undefined;
  const names = loadedColumns(fields);
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
  const spec: CopySpec = {
    table: options.table,
    columns: writesSeq ? [...names, seqColumn] : names,
    format: options.format,
    encoding: options.encoding,
  };
  const binary = await binaryRows(options, spec, writesSeq ? seqColumn : "");
  if (options.onConflict !== undefined) {
    const { action } = options.onConflict;
    const key = await conflictKey(options.target, {
      table: options.table,
      key: options.onConflict.key,
      loaded: spec.columns,
      option: `--on-conflict ${action}`,
    });
    const upsert = await UpsertStaging.open(options.target, {
      ...spec,
      key,
      action,
    });
    return {
      ...binary,
      table: options.table,
      spec: upsert.spec,
      columns: fields,
      writesSeq,
      lanesTarget: formatTableName(options.table),
      upsert,
    };
  }
  if (options.replace !== undefined) {
    const shadow = await ShadowTable.open(options.target, {
      table: options.table,
      ...options.replace,
    });
    return {
      ...binary,
      table: options.table,
      spec: { ...spec, table: shadow.table },
      columns: fields,
      writesSeq,
      lanesTarget: formatTableName(shadow.table),
      shadow,
    };
  }
  return {
    ...binary,
    table: options.table,
    spec,
    columns: fields,
    writesSeq,
    lanesTarget: formatTableName(options.table),
  };
}

/**
 * The binary encoder of the COPY's columns, unless the load goes in text:
 * `--copy-format text`, an encoding other than UTF-8 into the embedded
 * database or with a table or column name that is not ASCII (a server
 * converts binary text fields from the session's `client_encoding`, and
 * the COPY statement goes under it too, see `CopySpec.encoding`), or a
 * column no encoder takes. With `--copy-format binary` these are refused.
 */
async function binaryRows(
  options: PrepareTableOptions,
  spec: CopySpec,
  seqColumn: string,
): Promise<Pick<PreparedTable, "binary" | "forced" | "source">> {
  const choice = options.copyFormat ?? "auto";
  if (choice === "text") return {};
  const forced = choice === "binary";
  const refuse = (why: string) => {
    if (!forced) return {};
    throw new UsageError(
      `Cannot use --copy-format binary: ${why} (use --copy-format auto or text)`,
    );
  };
  if (options.format !== "text") {
    return refuse(`the rows are COPY ${options.format}, not text`);
  }
  if (options.encoding !== undefined) {
    if (options.target.kind !== "postgres") {
      return refuse(
        `the input is ${options.encoding}, and the embedded database converts it in a text COPY only`,
      );
    }
    // The COPY statement goes under that client_encoding too: its names
    // must read the same in it.
    const names = [spec.table.schema, spec.table.table, ...spec.columns];
    const name = names.find((name) => /\P{ASCII}/u.test(name));
    if (name !== undefined) {
      return refuse(
        `the input is ${options.encoding} and the name "${name}" is not ASCII: a binary COPY of ${options.encoding} text is sent under that encoding, which would misread the name`,
      );
    }
  }
  const columns = await binaryColumns(
    options.target,
    options.table,
    spec.columns,
    seqColumn || undefined,
  );
  if (!("types" in columns)) {
    return refuse(
      `column "${columns.column}" is of type ${columns.type}, which has no binary encoder here`,
    );
  }
  const binary = new BinaryRows({
    types: columns.types,
    naiveTimestamptzIsUtc: columns.naiveUtc,
    codec: options.codec,
  });
  return { binary, forced, source: options.source };
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
