/**
 * The write stage: each batch in its own transaction, by COPY.
 *
 * @module
 */

import type { CopyFormat } from "./copy_row.ts";
import {
  DatabaseLoadError,
  ExitCode,
  type ServerErrorFields,
  UsageError,
} from "./errors.ts";
import { type Batch, rowCount } from "./row_block.ts";
import {
  formatTableName,
  quoteIdentifier,
  quoteTableName,
  type TableName,
} from "./table_name.ts";
import type { CopySpec, Target } from "./target.ts";

/** Options for {@linkcode BatchWriter}. */
export interface BatchWriterOptions {
  /** The open database. */
  target: Target;
  /** The target table. */
  table: TableName;
  /** Target columns in file order; replaces the header's names. */
  columns?: readonly string[];
  /** The header's names, once read (from {@linkcode CsvDecodeStream.header}). */
  header: Promise<string[] | undefined>;
  /** Create the table (text columns) when it is missing. */
  create?: boolean;
  /** The COPY format the batches are in. */
  format: CopyFormat;
  /** The source's name, for errors. */
  source: string;
  /** Called after each batch commits. */
  onCommit?: (batch: Batch) => void;
}

/**
 * A `WritableStream` of {@linkcode Batch}es: before the first, it checks the
 * target table against the columns (creating it with `create`); then each
 * batch is one transaction holding one COPY. A failure rolls the batch
 * back, and a row the server rejects is reported at its source line. A
 * batch carrying an `error` (malformed input) fails the stream with it.
 * Queue: one batch (highWaterMark 1), so the next batch is encoded while
 * this one is written.
 *
 * @example Usage
 * ```ts
 * import { BatchWriter } from "./batch_writer.ts";
 * import { CsvDecodeStream } from "./decode_stream.ts";
 * import { RechunkStream } from "./rechunk_stream.ts";
 * import { openTarget } from "./target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
 * const decode = new CsvDecodeStream({ source: "t.csv" });
 * await ReadableStream.from([new TextEncoder().encode("a,b\n1,x\n2,\n")])
 *   .pipeThrough(decode)
 *   .pipeThrough(new RechunkStream({ batchSize: 1 }))
 *   .pipeTo(new BatchWriter({
 *     target, table: { schema: "public", table: "t" }, header: decode.header,
 *     create: true, format: "text", source: "t.csv",
 *   }));
 * const { rows } = await target.query("select count(b) as n from t");
 * assert.equal(rows[0].n, 1);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export class BatchWriter extends WritableStream<Batch> {
  /** @param options Where and how to write. */
  constructor(options: BatchWriterOptions) {
    let spec: Promise<CopySpec | undefined> | undefined;
    const prepare = () => spec ??= prepareTable(options);
    super({
      async write(batch) {
        if (batch.error) throw batch.error;
        const ready = await prepare();
        if (ready === undefined) {
          throw new UsageError(
            "Cannot load rows without column names: the input has no header; pass --columns",
          );
        }
        try {
          await options.target.transaction((session) =>
            session.copyFrom(ready, batch.data)
          );
        } catch (error) {
          throw locateServerError(error, batch, options.source);
        }
        options.onCommit?.(batch);
      },
      async close() {
        await prepare();
      },
    }, { highWaterMark: 1 });
  }
}

/** Checks (or creates) the table; `undefined` when there are no columns yet. */
async function prepareTable(
  options: BatchWriterOptions,
): Promise<CopySpec | undefined> {
  const names = options.columns ?? await options.header;
  if (names === undefined) return undefined;
  const name = formatTableName(options.table);
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
  const existing = await tableColumns(options.target, options.table);
  if (existing === undefined) {
    if (!options.create) {
      throw new UsageError(
        `Cannot load into ${name}: the table does not exist (pass --create to create it with a text column for each of: ${
          names.join(", ")
        })`,
      );
    }
    const columns = names.map((column) => `${quoteIdentifier(column)} text`);
    await options.target.query(
      `CREATE TABLE IF NOT EXISTS ${quoteTableName(options.table)} (${
        columns.join(", ")
      })`,
    );
  } else {
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
  return { table: options.table, columns: names, format: options.format };
}

/**
 * The table's column names in order, or `undefined` when it does not exist.
 *
 * @param target An open database.
 * @param table The table.
 * @returns Its columns, or `undefined`.
 */
export async function tableColumns(
  target: Target,
  table: TableName,
): Promise<string[] | undefined> {
  const { rows } = await target.query(
    `SELECT to_regclass($1)::oid AS oid,
            array(SELECT attname::text FROM pg_catalog.pg_attribute
                   WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
                   ORDER BY attnum) AS columns`,
    [quoteTableName(table)],
  );
  if (rows[0].oid === null) return undefined;
  return rows[0].columns as string[];
}

const COPY_LINE = /, line (\d+)(?:, column ([^:]+))?/;

/**
 * A server error as a {@linkcode DatabaseLoadError}, placed at the source
 * line of the record the server named (its `where`: `COPY t, line 2,
 * column q: "…"`). Other errors pass through.
 */
function locateServerError(
  error: unknown,
  batch: Batch,
  source: string,
): unknown {
  if (!isServerError(error)) return error;
  const match = error.where ? COPY_LINE.exec(error.where) : null;
  const row = match ? Number(match[1]) - 1 : -1;
  if (row < 0 || row >= rowCount(batch)) return new DatabaseLoadError(error);
  return new DatabaseLoadError(error, {
    source,
    line: batch.lines[row],
    columnName: match?.[2],
  });
}

function isServerError(error: unknown): error is ServerErrorFields {
  return error instanceof Error &&
    typeof (error as { code?: unknown }).code === "string" &&
    "severity" in error;
}
