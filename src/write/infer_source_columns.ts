/**
 * The pre-pass of `--create`: a source's column types (and, for NDJSON,
 * its columns) from its records, before the first batch is loaded. A
 * regular file is read through once more from its start, every record; a
 * stream (standard input, a pipe) gives its first records, which are kept
 * and replayed so that the load still reads every byte.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import type { InputFormat } from "../source/input_format.ts";
import {
  hasOwnedChunks,
  markOwnedChunks,
  readFileGuarded,
  type Source,
} from "../source/open_source.ts";
import type { ColumnType } from "./infer_column_types.ts";
import {
  CsvVotes,
  NdjsonVotes,
  type ReadOptions,
  type Votes,
} from "./_source_votes.ts";

/**
 * Records a stream gives the pre-pass at most (a file gives every one).
 *
 * @example Usage
 * ```ts
 * import { SAMPLE_RECORDS } from "./infer_source_columns.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(SAMPLE_RECORDS, 10_000);
 * ```
 */
export const SAMPLE_RECORDS = 10_000;

/** Bytes a stream gives the pre-pass at most, kept to be replayed: 64 MiB. */
const SAMPLE_BYTES = 64 * 1024 * 1024;

/**
 * Options for {@linkcode inferSourceColumns}: how the load reads CSV (the
 * dialect, the null string, the encoding, the header, and `columns`, which
 * replace the header's names). For NDJSON only `columns` counts: without
 * it the keys name the columns.
 *
 * @example Semicolons, and `NA` for NULL
 * ```ts
 * import {
 *   inferSourceColumns,
 *   type InferSourceColumnsOptions,
 * } from "./infer_source_columns.ts";
 * import assert from "node:assert/strict";
 *
 * const options: InferSourceColumnsOptions = { format: "csv", delimiter: ";", nullString: "NA" };
 * const bytes = new TextEncoder().encode("a;b\n1;NA\n2;x\n");
 * const inferred = await inferSourceColumns(
 *   { name: "<stdin>", readable: ReadableStream.from([bytes]) },
 *   options,
 * );
 * assert.deepEqual(inferred.types, ["integer", "text"]);
 * ```
 */
export interface InferSourceColumnsOptions extends ReadOptions {
  /** The input format. */
  format: InputFormat;
  /** Records a stream gives at most. Default {@linkcode SAMPLE_RECORDS}. */
  sampleRecords?: number;
  /** Stops the pre-pass: it rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * What the pre-pass learnt, and the source to load from now on.
 *
 * @example A stream's first records
 * ```ts
 * import { type InferredColumns, inferSourceColumns } from "./infer_source_columns.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("n\n1\n2\n3\n");
 * const inferred: InferredColumns = await inferSourceColumns(
 *   { name: "<stdin>", readable: ReadableStream.from([bytes]) },
 *   { format: "csv", sampleRecords: 2 },
 * );
 * assert.deepEqual([inferred.types, inferred.records, inferred.whole], [["integer"], 2, false]);
 * await inferred.source.readable.cancel();
 * ```
 */
export interface InferredColumns {
  /** The source: the same one, or (a stream) one that replays what the pre-pass read. */
  source: Source;
  /**
   * Each column's type, in the columns' order (`columns`, else the header
   * or the keys); text where no record voted. May be shorter than the
   * columns (no record), and is all text without `infer`.
   */
  types: ColumnType[];
  /** NDJSON without `columns`: the keys, in the order first seen. */
  keys?: string[];
  /** Records the types come from. */
  records: number;
  /** Whether they are all the source's records. */
  whole: boolean;
}

/**
 * Reads a source's records for `--create`: each column's type (see
 * `infer_column_types.ts`) and, for NDJSON without `columns`, the keys in
 * the order first seen. A regular file is read again from its start (its
 * source is left as it is); any other source gives its first
 * `sampleRecords` records (or 64 MiB, if that comes first), and the source
 * returned replays them. A read that fails ends the pre-pass (the load
 * meets the failure after the records before it). A
 * malformed record does not vote (the load reports it); a CSV pre-pass
 * stops once every column is text.
 *
 * @param source The source, not yet read.
 * @param options How the load reads it.
 * @returns The types (and keys), and the source to load from.
 *
 * @example Types from a stream, which is replayed whole
 * ```ts
 * import { inferSourceColumns } from "./infer_source_columns.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("id,joined,code\n1,2024-05-01,007\n2,,010\n");
 * const inferred = await inferSourceColumns(
 *   { name: "<stdin>", readable: ReadableStream.from([bytes]) },
 *   { format: "csv" },
 * );
 * assert.deepEqual(inferred.types, ["integer", "date", "text"]);
 * const replayed = await new Response(inferred.source.readable).text();
 * assert.equal(replayed, new TextDecoder().decode(bytes));
 * ```
 *
 * @example NDJSON's keys, in the order first seen
 * ```ts
 * import { inferSourceColumns } from "./infer_source_columns.ts";
 * import assert from "node:assert/strict";
 *
 * const lines = '{"id": 1, "tags": ["a"]}\n{"at": "2024-05-01T10:00:00Z", "id": 2}\n';
 * const inferred = await inferSourceColumns(
 *   { name: "<stdin>", readable: ReadableStream.from([new TextEncoder().encode(lines)]) },
 *   { format: "ndjson" },
 * );
 * assert.deepEqual(inferred.keys, ["id", "tags", "at"]);
 * assert.deepEqual(inferred.types, ["integer", "jsonb", "timestamptz"]);
 * await inferred.source.readable.cancel();
 * ```
 */
export async function inferSourceColumns(
  source: Source,
  options: InferSourceColumnsOptions,
): Promise<InferredColumns> {
  const file = source.realPath !== undefined &&
    await isRegularFile(source.realPath);
  const limit = file ? Infinity : options.sampleRecords ?? SAMPLE_RECORDS;
  const votes = options.format === "ndjson"
    ? new NdjsonVotes(options, limit)
    : new CsvVotes(source.name, options, limit);
  if (file) {
    const readable = await readFileGuarded(source.realPath!, source.name);
    const reader = readable.getReader();
    try {
      // A read that fails ends the votes; the load reads the file itself.
      await readUntil(reader, votes, Infinity, Infinity, options.signal);
    } finally {
      await reader.cancel().catch(() => {});
    }
    return { source, ...votes.result(), whole: votes.ended };
  }
  const reader = source.readable.getReader();
  let read: ReadUntil;
  try {
    read = await readUntil(reader, votes, limit, SAMPLE_BYTES, options.signal);
  } catch (error) {
    reader.releaseLock();
    throw error;
  }
  return {
    source: replaying(source, reader, read),
    ...votes.result(),
    whole: votes.ended,
  };
}

/**
 * Options for {@linkcode inferForCreate}.
 *
 * @example NDJSON's keys, even without types
 * ```ts
 * import { inferForCreate, type InferForCreateOptions } from "./infer_source_columns.ts";
 * import assert from "node:assert/strict";
 *
 * const options: InferForCreateOptions = {
 *   format: "ndjson", create: true, infer: false, table: "public.events", missing: true,
 * };
 * const bytes = new TextEncoder().encode('{"id": 1, "at": "2024-05-01"}\n');
 * const inferred = await inferForCreate(
 *   { name: "<stdin>", readable: ReadableStream.from([bytes]) },
 *   options,
 * );
 * assert.deepEqual([inferred?.keys, inferred?.types], [["id", "at"], ["text", "text"]]);
 * ```
 */
export interface InferForCreateOptions extends InferSourceColumnsOptions {
  /** Whether the load creates a missing table. */
  create?: boolean;
  /** The table, for messages. */
  table: string;
  /** Whether the table is missing. */
  missing: boolean;
}

/**
 * The pre-pass of `--create`, when it has work: with `create`, when the
 * table is `missing`, for the types (unless `infer` is false) and, for
 * NDJSON without `columns`, the keys.
 *
 * @param source The source, not yet read.
 * @param options How the load reads it, and whether it creates the table.
 * @returns What {@linkcode inferSourceColumns} learnt, or `undefined` when
 * it did not run (the source is then untouched).
 * @throws {UsageError} If NDJSON has no record whose keys could name the
 * columns.
 *
 * @example Only a missing table is typed
 * ```ts
 * import { inferForCreate } from "./infer_source_columns.ts";
 * import assert from "node:assert/strict";
 *
 * const source = () => ({
 *   name: "<stdin>",
 *   readable: ReadableStream.from([new TextEncoder().encode("id\n1\n")]),
 * });
 * const options = { create: true, table: "t", format: "csv" as const };
 * const there = await inferForCreate(source(), { ...options, missing: false });
 * assert.equal(there, undefined);
 * const missing = await inferForCreate(source(), { ...options, missing: true });
 * assert.deepEqual(missing?.types, ["integer"]);
 * ```
 */
export async function inferForCreate(
  source: Source,
  options: InferForCreateOptions,
): Promise<InferredColumns | undefined> {
  const needsKeys = options.format === "ndjson" &&
    options.columns === undefined;
  if (
    !options.create || !options.missing ||
    (options.infer === false && !needsKeys)
  ) {
    return undefined;
  }
  const inferred = await inferSourceColumns(source, options);
  if (inferred.keys?.length === 0) {
    await inferred.source.readable.cancel().catch(() => {});
    throw new UsageError(
      `Cannot create ${options.table} from ${source.name}: it has no NDJSON record whose keys could name the columns (name them with --columns)`,
    );
  }
  return inferred;
}

/** Whether `path` is a regular file (which can be read again). */
async function isRegularFile(path: string): Promise<boolean> {
  return await Deno.stat(path).then((info) => info.isFile, () => false);
}

/** What {@linkcode readUntil} read. */
interface ReadUntil {
  /** The chunks read. */
  head: Uint8Array[];
  /** Whether the input ended. */
  done: boolean;
  /** Why a read failed, when one did (the input goes no further). */
  failed?: { error: unknown };
}

/**
 * Reads chunks into `votes` until they are over, `limit` records or
 * `maxBytes` bytes were read, the input ends, or a read fails (the votes then stand as they
 * are: the load meets the failure after the records before it). Throws
 * the reason of `signal` once it is aborted.
 */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  votes: Votes,
  limit: number,
  maxBytes: number,
  signal: AbortSignal | undefined,
): Promise<ReadUntil> {
  const head: Uint8Array[] = [];
  let bytes = 0;
  // A stream may hold its next chunk back for long (a pipe): stop waiting
  // for it when the load is stopped.
  const stopped = Promise.withResolvers<never>();
  stopped.promise.catch(() => {});
  const stop = () => stopped.reject(signal!.reason);
  signal?.addEventListener("abort", stop);
  try {
    while (!votes.over && votes.records < limit && bytes < maxBytes) {
      signal?.throwIfAborted();
      const next = await Promise.race([
        reader.read().catch((error: unknown) => ({ error })),
        stopped.promise,
      ]);
      if ("error" in next) return { head, done: false, failed: next };
      if (next.done) {
        votes.finish();
        return { head, done: true };
      }
      if (next.value.length === 0) continue;
      head.push(next.value);
      bytes += next.value.length;
      votes.push(next.value);
    }
    return { head, done: false };
  } finally {
    signal?.removeEventListener("abort", stop);
  }
}

/**
 * `source`, reading the chunks `read` read again before the rest of
 * `reader` (as `resolveFormat` replays what it sniffed), and failing as
 * the read did. A stream is not read again by path, even one that has a
 * path (a named pipe).
 */
function replaying(
  source: Source,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  read: ReadUntil,
): Source {
  const { head } = read;
  const replay = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      const chunk = head.shift();
      if (chunk !== undefined) {
        controller.enqueue(chunk);
      } else if (read.failed !== undefined) {
        controller.error(read.failed.error);
      } else if (read.done) {
        controller.close();
      } else {
        const next = await reader.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  if (hasOwnedChunks(source.readable)) markOwnedChunks(replay);
  return { name: source.name, readable: replay, size: source.size };
}
