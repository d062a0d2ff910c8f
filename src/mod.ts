/**
 * lanecopy streams CSV or NDJSON records into PostgreSQL at COPY speed,
 * exactly once, with per-lane sequence numbers and lane counters committed in
 * the same transaction as the rows, on a server (`pg` + `pg-copy-streams`) or
 * on the embedded PGlite database.
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
 * @example Load NDJSON: keys name the table's columns, numbers and nested values load as written
 * ```ts
 * import { ingest, openTarget } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
 * await target.query("create table events (id int, amount numeric, doc jsonb)");
 * const ndjson = '{"doc": {"tags": ["a"]}, "id": 1, "amount": 0.1000000000000000055511151231257827}\n{"id": 2}\n';
 * await ingest({
 *   source: ReadableStream.from([new TextEncoder().encode(ndjson)]),
 *   table: "events",
 *   target,
 * });
 * const { rows } = await target.query(
 *   "select id, amount::text as amount, doc from events order by id",
 * );
 * assert.deepEqual(rows, [
 *   { id: 1, amount: "0.1000000000000000055511151231257827", doc: { tags: ["a"] } },
 *   { id: 2, amount: null, doc: null },
 * ]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 *
 * @module
 */

export * from "./bookkeeping/batch_claims.ts";
export * from "./write/batch_writer.ts";
export * from "./bookkeeping/schema.ts";
export * from "./codec/copy_row.ts";
export * from "./target/copy_writable.ts";
export * from "./codec/csv/csv_codec.ts";
export * from "./codec/decode_stream.ts";
export * from "./errors.ts";
export * from "./ingest.ts";
export * from "./source/input_format.ts";
export * from "./codec/ndjson/ndjson_codec.ts";
export * from "./source/prefix_fingerprint.ts";
export * from "./batch/rechunk_stream.ts";
export * from "./target/redact.ts";
export * from "./codec/row_block.ts";
export * from "./write/seq_splice.ts";
export * from "./source/open_source.ts";
export * from "./bookkeeping/source_state.ts";
export * from "./bookkeeping/status.ts";
export * from "./target/table_name.ts";
export * from "./target/target.ts";
export * from "./target/open_target.ts";
export * from "./codec/csv/wasm_csv_codec.ts";
export * from "./codec/ndjson/wasm_ndjson_codec.ts";
