/**
 * `ingest()`: a source, through decode and rechunk, into the database.
 *
 * @module
 */

import { BatchWriter } from "./batch_writer.ts";
import type { CopyFormat } from "./copy_row.ts";
import { CsvDecodeStream } from "./decode_stream.ts";
import { RechunkStream } from "./rechunk_stream.ts";
import { type Batch, rowCount } from "./row_block.ts";
import { openSource, type Source } from "./source.ts";
import { formatTableName, parseTableName } from "./table_name.ts";
import { openTarget, type Target } from "./target.ts";

/** Rows per batch (one transaction each) when none is given. */
export const DEFAULT_BATCH_SIZE = 10_000;

/** What to load, from where, into where. */
export interface IngestOptions {
  /** A file path, `-` for standard input, or a byte stream. */
  source: string | ReadableStream<Uint8Array>;
  /** The source's name in messages, for a stream. Default `<stream>`. */
  sourceName?: string;
  /** The target table, `table` or `schema.table`. */
  table: string;
  /** Target columns in file order; replaces the header's names. */
  columns?: string[];
  /** Whether the first line is a header. Default `true`. */
  header?: boolean;
  /** Field delimiter. Default `,`. */
  delimiter?: string;
  /** An unquoted field equal to this is NULL. Default: the unquoted empty field. */
  nullString?: string;
  /** Rows per batch (one transaction each). Default 10,000. */
  batchSize?: number;
  /** Create the table (text columns) when it is missing. */
  create?: boolean;
  /** PostgreSQL URL. Default `DATABASE_URL`, else the embedded database. */
  db?: string;
  /** The embedded database's directory. Default `./.lanecopy/db`. */
  dataDir?: string;
  /** The directory relative paths start from. Default: the process's. */
  cwd?: string;
  /** An already open database to use (and leave open) instead of `db`. */
  target?: Target;
  /** Called after each batch commits. */
  onProgress?: (progress: IngestProgress) => void;
}

/** How far a load has come. */
export interface IngestProgress {
  /** Rows committed. */
  rows: number;
  /** Batches committed. */
  batches: number;
  /** Source bytes committed. */
  bytes: number;
  /** The source's size, when known. */
  totalBytes?: number;
  /** Seconds since the load started. */
  seconds: number;
}

/** What a finished load did. */
export interface IngestSummary extends IngestProgress {
  /** The target, as `schema.table`. */
  table: string;
  /** The source's name. */
  source: string;
  /** Rows per second. */
  rowsPerSecond: number;
  /** Source megabytes (10^6 bytes) per second. */
  megabytesPerSecond: number;
}

/** The COPY format ingest sends. */
const INGEST_COPY_FORMAT: CopyFormat = "text";

/**
 * Loads CSV records into a table, one transaction per batch, by COPY.
 * Resolves when every row is committed; rejects with the reason otherwise
 * (batches before the failing one stay committed).
 *
 * @param options What to load and where.
 * @returns A summary of the load.
 *
 * @example Load a CSV stream into the embedded database
 * ```ts
 * import { ingest } from "./ingest.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const csv = new TextEncoder().encode("id,name\n1,ada\n2,\n");
 * const summary = await ingest({
 *   source: ReadableStream.from([csv]),
 *   table: "people",
 *   create: true,
 *   db: "",
 *   dataDir,
 * });
 * assert.equal(summary.rows, 2);
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function ingest(options: IngestOptions): Promise<IngestSummary> {
  const table = parseTableName(options.table);
  const started = performance.now();
  const source: Source = typeof options.source === "string"
    ? await openSource(options.source, options.cwd)
    : { name: options.sourceName ?? "<stream>", readable: options.source };
  let target: Target;
  try {
    target = options.target ?? await openTarget(options);
  } catch (error) {
    await source.readable.cancel().catch(() => {});
    throw error;
  }
  const progress: IngestProgress = {
    rows: 0,
    batches: 0,
    bytes: 0,
    totalBytes: source.size,
    seconds: 0,
  };
  const onCommit = (batch: Batch) => {
    progress.rows += rowCount(batch);
    progress.batches++;
    progress.bytes = batch.endOffset;
    progress.seconds = (performance.now() - started) / 1000;
    options.onProgress?.({ ...progress });
  };
  try {
    const decode = new CsvDecodeStream({
      source: source.name,
      delimiter: options.delimiter,
      nullString: options.nullString,
      header: options.header ?? true,
      columns: options.columns,
      copyFormat: INGEST_COPY_FORMAT,
    });
    await source.readable
      .pipeThrough(decode)
      .pipeThrough(
        new RechunkStream({
          batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
        }),
      )
      .pipeTo(
        new BatchWriter({
          target,
          table,
          columns: options.columns,
          header: decode.header,
          create: options.create,
          format: INGEST_COPY_FORMAT,
          source: source.name,
          onCommit,
        }),
      );
  } finally {
    if (options.target === undefined) await target.close();
  }
  const seconds = (performance.now() - started) / 1000;
  progress.bytes = source.size ?? progress.bytes;
  return {
    ...progress,
    seconds,
    table: formatTableName(table),
    source: source.name,
    rowsPerSecond: seconds > 0 ? progress.rows / seconds : 0,
    megabytesPerSecond: seconds > 0 ? progress.bytes / 1e6 / seconds : 0,
  };
}
