/**
 * lanecopy streams CSV records into PostgreSQL at COPY speed, one
 * transaction per batch, on a server (`pg` + `pg-copy-streams`) or on the
 * embedded PGlite database.
 *
 * The path of a record, one stage per module: {@linkcode openSource} (bytes)
 * → {@linkcode CsvDecodeStream} (COPY rows with their source lines) →
 * {@linkcode RechunkStream} (batches) → {@linkcode BatchWriter} (one COPY
 * transaction each). {@linkcode ingest} runs them all.
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

export * from "./batch_writer.ts";
export * from "./copy_row.ts";
export * from "./copy_writable.ts";
export * from "./csv_codec.ts";
export * from "./decode_stream.ts";
export * from "./errors.ts";
export * from "./ingest.ts";
export * from "./rechunk_stream.ts";
export * from "./redact.ts";
export * from "./row_block.ts";
export * from "./source.ts";
export * from "./table_name.ts";
export * from "./target.ts";
