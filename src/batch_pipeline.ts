/**
 * Bytes to batches: the stages between the source and the writer, joined.
 * The source's bytes are fingerprinted (and a committed prefix verified and
 * skipped), decoded to COPY rows, cut into batches, and each batch stamped
 * with the fingerprint of the source up to its end.
 *
 * @module
 */

import type { CopyFormat } from "./copy_row.ts";
import { CsvDecodeStream, type DecodeOptions } from "./decode_stream.ts";
import {
  type CommittedPrefix,
  PrefixFingerprint,
} from "./prefix_fingerprint.ts";
import { RechunkStream } from "./rechunk_stream.ts";
import type { Batch } from "./row_block.ts";

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
}

/** Batches, and the header once read. */
export interface BatchPipeline {
  /** The batches, in source order, stamped with their prefix. */
  batches: ReadableStream<Batch>;
  /** The header's names; see {@linkcode CsvDecodeStream.header}. */
  header: Promise<string[] | undefined>;
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
  const batches = bytes
    .pipeThrough(fingerprint.tap)
    .pipeThrough(decode)
    .pipeThrough(
      new RechunkStream({
        batchSize: options.batchSize,
        flushMs: options.flushMs,
        startOffset: options.decode.startOffset ?? 0,
      }),
    )
    .pipeThrough(
      fingerprint.stamp(
        options.decode.copyFormat,
        options.decode.format,
        options.keepRaw,
      ),
    );
  return { batches, header: decode.header };
}
