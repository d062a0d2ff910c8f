/**
 * lanecopy streams CSV or NDJSON records into PostgreSQL at COPY speed,
 * exactly once, with per-lane sequence numbers and lane counters committed in
 * the same transaction as the rows, on a server (`pg` + `pg-copy-streams`) or
 * on the embedded PGlite database.
 *
 * The path of a record, one folder of `src/` per stage:
 * {@linkcode openSource} (`source/`: bytes) → {@linkcode CsvDecodeStream}
 * (`codec/`: COPY rows with their source lines and lane keys) →
 * {@linkcode RechunkStream} (`batch/`: batches) → {@linkcode BatchWriter}
 * (`write/`: one transaction each: claim, lane seqs, COPY, commit) → a
 * {@linkcode Target} (`target/`: a server or the embedded PGlite).
 * {@linkcode ingest} runs them all; {@linkcode loadStatus} reads the
 * bookkeeping. The library takes every setting from its arguments: it reads
 * no environment variable (the CLI passes `DATABASE_URL` as `db`).
 *
 * @example Load CSV into the embedded database and read it back
 * ```ts
 * import { ingest, openTarget } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const csv = 'sku,name\nA1,"Widget, large"\nB2,""\nC3,\n';
 * await ingest({
 *   source: ReadableStream.from([new TextEncoder().encode(csv)]),
 *   table: "items",
 *   create: true,
 *   dataDir,
 * });
 * const target = await openTarget({ dataDir });
 * const { rows } = await target.query("select name from items order by sku");
 * assert.deepEqual(rows.map((row) => row.name), ["Widget, large", "", null]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 *
 * @example Load NDJSON: keys name the table's columns, numbers and nested values load as written
 * ```ts
 * import { ingest, openTarget } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
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

export { ingest } from "./ingest.ts";
export type {
  IngestOptions,
  IngestProgress,
  IngestSummary,
} from "./ingest_options.ts";
export { openTarget } from "./target/open_target.ts";
export type { TargetOptions } from "./target/open_target.ts";
export type {
  CopySpec,
  QueryResult,
  Session,
  Target,
} from "./target/target.ts";
export { loadStatus } from "./bookkeeping/status.ts";
export type {
  LaneStatusRow,
  LoadStatus,
  SourceStatusRow,
} from "./bookkeeping/status.ts";
export { openSource } from "./source/open_source.ts";
export type { Source } from "./source/open_source.ts";
export { CsvDecodeStream } from "./codec/decode_stream.ts";
export type { DecodeOptions } from "./codec/decode_stream.ts";
export type { Batch, RowBlock } from "./codec/row_block.ts";
export { RechunkStream } from "./batch/rechunk_stream.ts";
export type { RechunkStreamOptions } from "./batch/rechunk_stream.ts";
export { BatchWriter } from "./write/batch_writer.ts";
export type { BatchWriterOptions } from "./write/batch_writer.ts";
export {
  DatabaseLoadError,
  ExitCode,
  exitCodeFor,
  InputSyntaxError,
  InterruptedError,
  SourceError,
} from "./errors.ts";
