/**
 * The types of `ingest()`: what to load, from where, into where
 * ({@linkcode IngestOptions}), and what it reports as it goes
 * ({@linkcode IngestProgress}) and at its end ({@linkcode IngestSummary}).
 * The plan of a load (`load_plan.ts`) and its run (`ingest.ts`) both read
 * them.
 *
 * @module
 */

import type { ColumnEntry } from "./codec/column_entry.ts";
import type { ExtraPolicy } from "./codec/column_map.ts";
import type { Source } from "./source/open_source.ts";
import type { InputFormat } from "./source/input_format.ts";
import type { Target } from "./target/target.ts";
import type { BatchEvent } from "./write/batch_writer.ts";

/**
 * What to load, from where, into where.
 *
 * @example Semicolon-separated records into a new table
 * ```ts
 * import { ingest, type IngestOptions } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const options: IngestOptions = {
 *   source: ReadableStream.from([new TextEncoder().encode("sku;qty\nA1;3\nB2;\n")]),
 *   table: "stock",
 *   delimiter: ";",
 *   create: true,
 *   dataDir,
 * };
 * assert.equal((await ingest(options)).rows, 2);
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface IngestOptions {
  /** A file path, `-` for standard input, a byte stream, or an open source. */
  source: string | ReadableStream<Uint8Array> | Source;
  /** The source's name in messages, for a stream. Default `<stream>`. */
  sourceName?: string;
  /**
   * The source's identity for resuming. Default: the file's real path plus
   * the target; a stream without one is a new source on every run.
   */
  sourceId?: string;
  /** The target table, `table` or `schema.table`. */
  table: string;
  /**
   * Which column each field loads into. Default: the header's names (CSV;
   * in any order, as COPY takes its column list in file order), or the
   * target table's columns (NDJSON's keys). Either by position, one entry
   * per field in file order: a column name (replacing the header's), or
   * `null` to skip the field. Or by name, `{ field, column }` entries only:
   * the field the header names `field` (NDJSON: the key) loads into
   * `column`, or is skipped with `null`; the others load into the columns
   * their names name. With a header, a `{ field, column }` entry in a list
   * by position checks the header's name there. See `ColumnEntry`.
   */
  columns?: ColumnEntry[];
  /**
   * What a field whose column the target table lacks does: `error` (the
   * load is refused before anything loads, naming every such column), or
   * `ignore` (the field is skipped). Default `error`.
   */
  extraColumns?: ExtraPolicy;
  /**
   * What an NDJSON record's key that is no column does: `error` (bad input
   * at its `file:line:column`), or `ignore` (its value is read and left
   * out). Default `error`.
   */
  extraKeys?: ExtraPolicy;
  /** Whether the first line is a header. Default `true`. */
  header?: boolean;
  /**
   * The input format. Default: from the file's extension (`.ndjson`,
   * `.jsonl` and `.json` are NDJSON), else sniffed from the first non-blank
   * byte (`{` is NDJSON). NDJSON's keys name columns: `columns`, else the
   * target table's (its seq column excepted).
   */
  format?: InputFormat;
  /** Field delimiter. Default `,`. */
  delimiter?: string;
  /** An unquoted field equal to this is NULL. Default: the unquoted empty field. */
  nullString?: string;
  /** Quote character. Default `"`. */
  quote?: string;
  /**
   * Inside quoted fields, this character before the quote (or before
   * itself) makes it data. Default: the quote, so quotes are doubled.
   */
  escape?: string;
  /**
   * The input's encoding (see `resolveEncoding`): UTF-8 (the default, and
   * the only one checked here), or another ASCII-compatible one such as
   * `latin1`, `windows-1252` or `EUC_JP`, which the COPY statement names so
   * that the server converts the rows. NDJSON is UTF-8 only.
   */
  encoding?: string;
  /**
   * The decode codec: the WebAssembly module (default) or its TypeScript
   * twin. Both give the same rows and the same errors.
   */
  codec?: "wasm" | "ts";
  /** The column whose text names each record's lane. Default: one lane, `default`. */
  lane?: string;
  /** The column receiving each row's lane seq. Default `lane_seq`. */
  seqColumn?: string;
  /** Rows per batch (one transaction each). Default 10,000. */
  batchSize?: number;
  /**
   * Milliseconds a record may wait in a partial batch before the batch
   * commits, so a live stream (stdin that trickles) is loaded as it comes.
   * Default 1,000.
   */
  flushMs?: number;
  /**
   * Create the table when it is missing (and its schema, when that is
   * missing too): a column for each name (for NDJSON without `columns`,
   * each key, in the order first seen), typed from the values (see
   * `infer`), and the seq column (`bigint`) with a `lane`. The DDL is told
   * through `onNotice`.
   */
  create?: boolean;
  /**
   * With `create`: type each column from the values (integer, bigint,
   * numeric, boolean, date, timestamp, timestamptz, uuid, jsonb, else
   * text) read from every record of a file, or from the first 10,000
   * records (at most 64 MiB) of a stream, which are kept and still load:
   * a stream's first batch waits for them, or for its end. `false`: every
   * column is text. Default `true`.
   */
  infer?: boolean;
  /** The bookkeeping schema. Default `lanecopy`. */
  metaSchema?: string;
  /** Load the source again from its start, clearing its earlier progress. */
  restart?: boolean;
  /** Wait while another run loads the same source, then resume. */
  wait?: boolean;
  /**
   * The server: a `postgres://` URL or a libpq keyword string
   * (`host=db dbname=shop`), as `openTarget` takes it. Unset or empty: the
   * embedded database (the library reads no environment variable).
   */
  db?: string;
  /** The embedded database's directory. Default `./.lanecopy/db`. */
  dataDir?: string;
  /** The directory relative paths start from. Default: the process's. */
  cwd?: string;
  /** An already open database to use (and leave open) instead of `db`. */
  target?: Target;
  /**
   * Fingerprint, decode and batch on a worker thread, so the next batch is
   * made on one core while this one is written on another. Default `true`.
   */
  decodeThread?: boolean;
  /** Called after each batch commits. */
  onProgress?: (progress: IngestProgress) => void;
  /** Called as each batch goes through its transaction. */
  onEvent?: (event: BatchEvent) => void;
  /** Called with messages worth telling the user (a resume, a restart). */
  onNotice?: (message: string) => void;
  /**
   * Stops the load: the batch in flight finishes (or, if it fails, rolls
   * back), no further batch starts, and `ingest()` rejects with an
   * {@linkcode InterruptedError} (the abort reason, when it is one) that
   * says what was committed. A re-run resumes after it.
   */
  signal?: AbortSignal;
  /**
   * A file for the records that cannot load: rows the server rejects and
   * malformed records (bad CSV or NDJSON, invalid UTF-8, a NULL lane key).
   * Each is copied there byte for byte (with `PATH.log` saying where it
   * came from and why) and its batch loads without it. Without one, a
   * rejected row or a malformed record stops the load.
   */
  rejectFile?: string;
  /**
   * With `rejectFile`: stop (at a committed, resumable point) once more
   * than this many records were rejected in the run. Default: no limit.
   */
  maxRejects?: number;
  /**
   * Load everything in one transaction, like `psql -1`: all rows or none.
   * A failed or interrupted run leaves nothing behind, so there is nothing
   * to resume (a source an atomic run completed is still recognised, and
   * not loaded twice). Default `false`: one transaction per batch.
   */
  atomic?: boolean;
  /**
   * Run the whole load, then roll it back: one transaction (each batch a
   * savepoint, as with `atomic`) that never commits. The table and columns
   * are checked (or created, with `create`, and dropped again), every row
   * goes through the server, and rejects and the summary are reported, but
   * no row, counter or progress is committed (only the bookkeeping schema
   * is created when it is missing). Default `false`.
   */
  dryRun?: boolean;
  /**
   * After a lost connection to a server, how many times to reconnect (with
   * backoff from 0.5 s, doubling up to 8 s: about 40 s for the default 8)
   * before giving up; the batch in hand is kept and re-synced with the
   * committed prefix. 0 gives up at once.
   */
  retries?: number;
  /**
   * Writers loading at once, each on its own connection (`--parallel N`):
   * lanes are hashed to writers (FNV-1a 32 of the lane key's UTF-8 bytes,
   * modulo N), so a lane is always written by one writer, in input order.
   * Needs `lane` and a server. Each writer keeps its own resume state; a
   * source that is not complete is resumed only with the count it was
   * loaded with (or `restart`). Default 1.
   */
  parallel?: number;
  /**
   * How lanes map to the writers of a parallel load (`--routing`): `hash`
   * (FNV-1a of the lane key, as `parallel` says) or `shards`: on a table
   * Citus distributes by hash of the lane column, each lane goes to the
   * writer of its shard (shard i, in hash order, to writer i mod N), so each
   * writer's COPY touches its own shards only. Default: `shards` where that
   * applies (a Citus hash-distributed table, distributed by `lane`, and
   * `parallel` above 1), else `hash`; `shards` elsewhere is refused. Part of
   * a source's resume state, like `parallel`.
   */
  routing?: "hash" | "shards";
  /**
   * Upsert (`--on-conflict`): a record whose key the table holds already
   * changes nothing (`nothing`) or updates that row (`update`; the last
   * record of a key in input order wins). Each batch goes by COPY into a
   * temporary staging table, then by one `INSERT … ON CONFLICT` into the
   * table, in the batch's transaction: exactly once, in key order. Needs a
   * primary key, or `key`. Unset: rows are appended (a key already there is
   * a rejected row).
   */
  onConflict?: "nothing" | "update";
  /**
   * The columns of the unique index `onConflict` matches by (`--key a,b`).
   * Default: the primary key. With `create`, the new table's primary key.
   */
  key?: string[];
  /**
   * Replace the table's rows with the source's (`--replace`): the batches
   * load, resumably, into a shadow table, and one transaction at the end
   * makes the table's rows equal it (readers see the old rows until then).
   * The table stays the same table: views, grants, triggers and foreign
   * keys on it keep working.
   */
  replace?: boolean;
  /**
   * How batches go to the server (`--copy-format`): `auto` (the default)
   * sends a batch in COPY binary when every column has a binary encoder
   * and every value follows its rules (the server then parses less), else
   * in text; `binary` makes a batch that cannot an error; `text` always
   * sends text. Text is also what any input in another encoding than
   * UTF-8 goes as.
   */
  copyFormat?: "text" | "binary" | "auto";
  /**
   * With `create` on a Citus coordinator: the column the new table is
   * distributed by (`--distribute-by`; default the lane column, when there
   * is one). Refused where Citus is not installed.
   */
  distributeBy?: string;
}

/**
 * How far a load has come.
 *
 * @example Progress after each batch
 * ```ts
 * import { ingest, type IngestProgress } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const seen: IngestProgress[] = [];
 * await ingest({
 *   source: ReadableStream.from([new TextEncoder().encode("id\n1\n2\n3\n")]),
 *   table: "ids",
 *   create: true,
 *   batchSize: 2,
 *   dataDir,
 *   onProgress: (progress) => seen.push(progress),
 * });
 * assert.deepEqual(seen.map((progress) => [progress.batches, progress.rows]), [[1, 2], [2, 3]]);
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface IngestProgress {
  /** Rows committed by this run. */
  rows: number;
  /** Records this run rejected into the reject file. */
  rejected: number;
  /** Batches committed by this run. */
  batches: number;
  /** The committed prefix of the source, in bytes. */
  bytes: number;
  /** The source's size, when known. */
  totalBytes?: number;
  /** Batches that went in COPY binary (the rest went in text); set by `ingest`. */
  binaryBatches?: number;
  /** Upsert: records that inserted a row. */
  inserted?: number;
  /** Upsert (`update`): records that updated a row already there. */
  updated?: number;
  /** Upsert (`nothing`): records whose key was there, which changed nothing. */
  skipped?: number;
  /** Seconds since the load started. */
  seconds: number;
}

/**
 * What a finished load did.
 *
 * @example A summary names the table, the database, the source and where it started
 * ```ts
 * import { ingest, type IngestSummary } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const summary: IngestSummary = await ingest({
 *   source: ReadableStream.from([new TextEncoder().encode("id\n1\n")]),
 *   sourceName: "ids.csv",
 *   table: "ids",
 *   create: true,
 *   dataDir,
 * });
 * assert.equal(summary.table, "public.ids");
 * assert.equal(summary.destination, dataDir);
 * assert.equal(summary.source, "ids.csv");
 * assert.equal(summary.resumedAt, 0);
 * assert.equal(summary.rows, 1);
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface IngestSummary extends IngestProgress {
  /** The reject file, when one was given. */
  rejectFile?: string;
  /** The target, as `schema.table`. */
  table: string;
  /**
   * The database the rows went to: a server's `user@host:port/database`
   * (never the password), or the embedded database's directory.
   */
  destination: string;
  /** The source's name. */
  source: string;
  /** The source id its progress is kept under. */
  sourceId: string;
  /** The byte offset this run started from (an earlier run's committed prefix). */
  resumedAt: number;
  /** Rows per second. */
  rowsPerSecond: number;
  /** Source megabytes (10^6 bytes) per second, this run's bytes. */
  megabytesPerSecond: number;
  /** Whether the load was a dry run: its rows were rolled back. */
  dryRun: boolean;
  /**
   * With lanes routed to writers by Citus shard (`routing`): how many
   * shards over how many writers.
   */
  routedByShard?: { shards: number; writers: number };
}
