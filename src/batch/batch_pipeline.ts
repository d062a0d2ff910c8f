/**
 * Bytes to batches: the stages between the source and the writer, joined.
 * The source's bytes are fingerprinted (and a committed prefix verified and
 * skipped), decoded to COPY rows, cut into batches, and each batch stamped
 * with the fingerprint of the source up to its end.
 *
 * @module
 */

import type { CopyFormat } from "../codec/copy_row.ts";
import { CsvDecodeStream, type DecodeOptions } from "../codec/decode_stream.ts";
import {
  type CommittedPrefix,
  PrefixFingerprint,
} from "../source/prefix_fingerprint.ts";
import {
  type PrefixCheck,
  PrefixCheckStream,
} from "../source/prefix_check_stream.ts";
import { RechunkStream } from "./rechunk_stream.ts";
import type { Batch } from "../codec/row_block.ts";
import type { AheadEncoding } from "../codec/binary/encoded_ahead.ts";
import { WriterSplitStream } from "../parallel/writer_split.ts";
import { laneRouter, type ShardRoute } from "../parallel/shard_routing.ts";

/** Options for {@linkcode batchPipeline}. */
export interface BatchPipelineOptions {
  /** How to decode; `startOffset` and `startLine` say where decoding begins. */
  decode: DecodeOptions & { copyFormat: CopyFormat };
  /** Rows per batch, at most. */
  batchSize: number;
  /** Milliseconds a partial batch may hold a record; see {@linkcode RechunkStream}. */
  flushMs?: number;
  /** Attach each batch's own source bytes as `raw` (for a reject file). */
  keepRaw?: boolean;
  /** The prefix an earlier run committed: verified, then skipped. */
  committed?: CommittedPrefix;
  /** The source id, for a refusal. */
  sourceId?: string;
  /**
   * Split the rows among writers by lane (`--parallel N`; see
   * {@linkcode WriterSplitStream}): `count` writers, each starting at its
   * committed position in `offsets`, lanes routed to them by `route`'s
   * shards (`--routing shards`) or else hashed (see `laneRouter`). Batches
   * then name their writer.
   */
  writers?: { count: number; offsets: number[]; route?: ShardRoute };
  /**
   * Longer prefixes other writers committed, checked before anything past
   * `committed` is decoded (see {@linkcode PrefixCheckStream}).
   */
  checks?: PrefixCheck[];
}

/** Batches, and the header once read. */
export interface BatchPipeline {
  /** The batches, in source order, stamped with their prefix. */
  batches: ReadableStream<Batch>;
  /** The header's names; see {@linkcode CsvDecodeStream.header}. */
  header: Promise<string[] | undefined>;
  /**
   * Where batches are made on another thread: asks it to encode each batch
   * it hands out from now on in COPY binary too (see `encoded_ahead.ts`).
   * Only the first call counts.
   */
  encodeAhead?: (encoding: AheadEncoding) => void;
}

/**
 * Joins fingerprint, decode, rechunk and stamp on one thread. Each stage
 * holds one batch (or chunk) ahead, so memory stays bounded.
 *
 * @param bytes The source's bytes from its start.
 * @param options How to decode and batch.
 * @returns The batches and the header.
 *
 * @example Usage
 * ```ts
 * import { batchPipeline } from "./batch_pipeline.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = ReadableStream.from([new TextEncoder().encode("a\n1\n2\n3\n")]);
 * const { batches, header } = batchPipeline(bytes, {
 *   decode: { copyFormat: "text" },
 *   batchSize: 2,
 * });
 * const all = await Array.fromAsync(batches);
 * assert.deepEqual(await header, ["a"]);
 * assert.deepEqual(all.map((b) => [b.startOffset, b.endOffset, b.prefix?.lines]), [[0, 6, 3], [6, 8, 4]]);
 * ```
 */
export function batchPipeline(
  bytes: ReadableStream<Uint8Array>,
  options: BatchPipelineOptions,
): BatchPipeline {
  const fingerprint = new PrefixFingerprint({
    committed: options.committed,
    sourceId: options.sourceId,
  });
  const decode = new CsvDecodeStream(options.decode);
  const checked = options.checks?.length
    ? bytes.pipeThrough(
      new PrefixCheckStream({
        prefixes: options.checks,
        holdFrom: options.committed?.byteOffset ?? 0,
        sourceId: options.sourceId,
      }),
    )
    : bytes;
  const rows = checked.pipeThrough(fingerprint.tap).pipeThrough(decode);
  const { copyFormat, format } = options.decode;
  const batches = options.writers
    ? rows.pipeThrough(
      new WriterSplitStream({
        writers: options.writers.count,
        route: laneRouter(options.writers.count, options.writers.route),
        startOffsets: options.writers.offsets,
        batchSize: options.batchSize,
        flushMs: options.flushMs,
        prefixAt: (block, row) =>
          fingerprint.prefixAt(block, row, copyFormat, format),
      }),
    )
    : rows.pipeThrough(
      new RechunkStream({
        batchSize: options.batchSize,
        flushMs: options.flushMs,
        startOffset: options.decode.startOffset ?? 0,
        hooks: fingerprint.batchHooks(copyFormat, format, options.keepRaw),
      }),
    );
  return { batches, header: decode.header };
}
