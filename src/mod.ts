/**
 * lanecopy streams CSV records into PostgreSQL at COPY speed, exactly once,
 * with per-lane sequence numbers and lane counters committed in the same
 * transaction as the rows, on a server (`pg` + `pg-copy-streams`) or on the
 * embedded PGlite database.
 *
 * The path of a record, one stage per module: {@linkcode openSource} (bytes)
 * → {@linkcode PrefixFingerprint} (the committed prefix's hash) →
 * {@linkcode CsvDecodeStream} (COPY rows with their source lines and lanes)
 * → {@linkcode RechunkStream} (batches) → {@linkcode BatchWriter} (one
 * transaction each: claim, lane seqs, COPY, commit). {@linkcode ingest}
 * runs them all; {@linkcode loadStatus} reads the bookkeeping.
 *
 * @example Load CSV into the embedded database and read it back
 * ```ts
 * import { ingest, openTarget } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const csv = 'sku,name\nA1,"Widget, large"\nB2,""\nC3,\n';
 * await ingest({
 *   source: ReadableStream.from([new TextEncoder().encode(csv)]),
 *   table: "items",
 *   create: true,
 *   db: "",
 *   dataDir,
 * });
 * const target = await openTarget({ db: "", dataDir });
 * const { rows } = await target.query("select name from items order by sku");
 * assert.deepEqual(rows.map((row) => row.name), ["Widget, large", "", null]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 *
 * @module
 */

export * from "./batch_bookkeeping.ts";
export * from "./batch_writer.ts";
export * from "./bookkeeping.ts";
export * from "./copy_row.ts";
export * from "./copy_writable.ts";
export * from "./csv_codec.ts";
export * from "./decode_stream.ts";
export * from "./errors.ts";
export * from "./ingest.ts";
export * from "./prefix_fingerprint.ts";
export * from "./rechunk_stream.ts";
export * from "./redact.ts";
export * from "./row_block.ts";
export * from "./seq_splice.ts";
export * from "./source.ts";
export * from "./source_state.ts";
export * from "./status.ts";
export * from "./table_name.ts";
export * from "./target.ts";
