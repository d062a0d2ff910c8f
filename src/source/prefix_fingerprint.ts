/**
 * The fingerprint of a source's committed prefix: a SHA-256 of its bytes
 * `[0, offset)`, carried incrementally as the load runs, stamped on each
 * batch with the number of lines up to its end (so line numbers stay right
 * after a resume).
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { ExitCode, UsageError } from "../errors.ts";
import type { CopyFormat } from "../codec/copy_row.ts";
import type { InputFormat } from "./input_format.ts";
import type { BatchHooks } from "../batch/rechunk_stream.ts";
import {
  type Batch,
  type RowBlock,
  rowCount,
  rowStart,
} from "../codec/row_block.ts";

/** A prefix of the source: its hash and its lines. */
export interface PrefixState {
  /** Hex SHA-256 of the prefix's bytes. */
  fingerprint: string;
  /** Lines in the prefix, as the codec numbers them (the next record starts on line `lines + 1`). */
  lines: number;
}

/** A prefix an earlier run committed, which this run must find unchanged. */
export interface CommittedPrefix extends PrefixState {
  /** Its length in bytes. */
  byteOffset: number;
}

/** Options for {@linkcode PrefixFingerprint}. */
export interface PrefixFingerprintOptions {
  /** The prefix an earlier run committed: verified, then not passed on. */
  committed?: CommittedPrefix;
  /** The source id, for the refusal message. */
  sourceId?: string;
}

const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;

/**
 * Hashes a source as it streams. Put {@linkcode PrefixFingerprint.tap} right
 * after the source, and give the rechunk stage
 * {@linkcode PrefixFingerprint.batchHooks} (or put
 * {@linkcode PrefixFingerprint.stamp} right after it); or call
 * {@linkcode PrefixFingerprint.at} with increasing offsets (each batch's
 * end) to get the fingerprint of the bytes before it. Chunks are held only
 * between the last offset hashed and what the source has read: with the
 * hooks, only until the records in them have joined a batch.
 *
 * With `committed`, the tap re-reads that prefix without passing it on,
 * and errors (exit code 4) when the source no longer starts with it.
 *
 * @example Usage
 * ```ts
 * import { PrefixFingerprint } from "./prefix_fingerprint.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("a\nb\nc\n");
 * const first = new PrefixFingerprint();
 * await Array.fromAsync(ReadableStream.from([bytes]).pipeThrough(first.tap));
 * const fingerprint = first.at(4);
 * assert.equal(fingerprint.length, 64);
 *
 * // A later run skips the verified prefix and passes on the rest.
 * const again = new PrefixFingerprint({ committed: { byteOffset: 4, fingerprint, lines: 2 } });
 * const rest = await Array.fromAsync(ReadableStream.from([bytes]).pipeThrough(again.tap));
 * assert.equal(new TextDecoder().decode(rest[0]), "c\n");
 * ```
 */
export class PrefixFingerprint {
  /** Passes the source's bytes through (after the committed prefix). */
  readonly tap: TransformStream<Uint8Array, Uint8Array>;
  readonly #hash: Hash = createHash("sha256");
  #hashed = 0;
  #lastByte = -1;
  #pending: Uint8Array[] = [];

  /** @param options The committed prefix to verify and skip, if any. */
  constructor(options: PrefixFingerprintOptions = {}) {
    const committed = options.committed;
    const skipTo = committed?.byteOffset ?? 0;
    const refuse = (what: string) =>
      new UsageError(
        `Cannot resume source "${
          options.sourceId ?? "?"
        }": ${what} (pass --restart to load it again from the start)`,
        ExitCode.Refused,
      );
    this.tap = new TransformStream({
      transform: (chunk, controller) => {
        let rest = chunk;
        if (this.#hashed < skipTo) {
          const take = Math.min(chunk.length, skipTo - this.#hashed);
          this.#consume(chunk.subarray(0, take));
          rest = chunk.subarray(take);
          if (this.#hashed === skipTo && committed !== undefined) {
            const now = this.#hash.copy().digest("hex");
            if (now !== committed.fingerprint) {
              throw refuse(
                `its first ${skipTo} bytes (the prefix already loaded) have changed since they were loaded`,
              );
            }
          }
        }
        if (rest.length > 0) {
          this.#pending.push(rest);
          controller.enqueue(rest);
        }
      },
      flush: () => {
        if (this.#hashed < skipTo) {
          throw refuse(
            `it is now ${this.#hashed} bytes long, shorter than the ${skipTo} bytes already loaded from it`,
          );
        }
      },
    });
  }

  /**
   * The fingerprint of the bytes before `offset`. Offsets must not
   * decrease from call to call, and the tap must have passed them.
   *
   * @param offset A source byte offset.
   * @returns The hex SHA-256 of the source's bytes `[0, offset)`.
   */
  at(offset: number): string {
    return this.#hashTo(offset);
  }

  /** Hashes up to `offset`; returns the fingerprint of the bytes before it. */
  #hashTo(offset: number, collect?: Uint8Array[]): string {
    this.#advance(offset, collect);
    return this.#hash.copy().digest("hex");
  }

  /** Hashes up to `offset`, handing each piece hashed to `collect`. */
  #advance(offset: number, collect?: Uint8Array[]): void {
    while (this.#hashed < offset) {
      const chunk = this.#pending[0];
      if (chunk === undefined) {
        throw new RangeError(
          `Cannot fingerprint up to byte ${offset}: only ${this.#hashed} bytes have been read`,
        );
      }
      const take = Math.min(chunk.length, offset - this.#hashed);
      this.#consume(chunk.subarray(0, take));
      collect?.push(chunk.subarray(0, take));
      if (take === chunk.length) this.#pending.shift();
      else this.#pending[0] = chunk.subarray(take);
    }
  }

  /**
   * The prefix of the source up to the end of row `row` of `block`: the
   * fingerprint of the bytes before that row's end offset, and the lines
   * through it. Offsets must not decrease from call to call (nor below
   * those given to {@linkcode PrefixFingerprint.at}), and the tap must have
   * passed them.
   *
   * @param block Rows with their source end offsets and lines.
   * @param row The row (0-based) whose end the prefix ends at.
   * @param format The COPY format of the rows (to find the line feeds
   * inside a record).
   * @param input The input format: an NDJSON record is always one line.
   * @returns The prefix's fingerprint and lines.
   *
   * @example Usage
   * ```ts
   * import { PrefixFingerprint } from "./prefix_fingerprint.ts";
   * import assert from "node:assert/strict";
   *
   * const fingerprint = new PrefixFingerprint();
   * const bytes = new TextEncoder().encode("a\nb\n");
   * await Array.fromAsync(ReadableStream.from([bytes]).pipeThrough(fingerprint.tap));
   * const block = {
   *   data: new TextEncoder().encode("a\nb\n"), rowEnds: Uint32Array.of(2, 4),
   *   lines: Float64Array.of(1, 2), endOffsets: Float64Array.of(2, 4),
   * };
   * const prefix = fingerprint.prefixAt(block, 0, "text");
   * assert.equal(prefix.lines, 1);
   * assert.equal(fingerprint.prefixAt(block, 1, "text").lines, 2);
   * ```
   */
  prefixAt(
    block: RowBlock,
    row: number,
    format: CopyFormat,
    input: InputFormat = "csv",
  ): PrefixState {
    return this.#prefixAt(block, row, format, input);
  }

  #prefixAt(
    block: RowBlock,
    row: number,
    format: CopyFormat,
    input: InputFormat,
    collect?: Uint8Array[],
  ): PrefixState {
    const fingerprint = this.#hashTo(block.endOffsets[row], collect);
    const terminated = this.#lastByte === LF ||
      (this.#lastByte === CR && input === "csv");
    return {
      fingerprint,
      lines: input === "ndjson"
        ? block.lines[row] - 1 + (terminated ? 1 : 0)
        : linesThrough(block, row, format, terminated),
    };
  }

  /**
   * Hooks for `RechunkStream` that stamp each batch as it is cut, as
   * {@linkcode PrefixFingerprint.stamp} would: each record's bytes are
   * hashed as soon as it joins a batch, so the source's chunks are freed
   * young instead of waiting, a batch or more of them, for the batch to
   * be cut and stamped; cutting then only reads the hash. The hashing
   * happens on the decoding side, not inside a transaction.
   *
   * @param format The COPY format of the batches (to find the line feeds
   * inside a record).
   * @param input The input format: an NDJSON record is always one line.
   * @param keepRaw Also attach each batch's own source bytes as `raw`.
   * @returns The hooks, for `RechunkStreamOptions.hooks`.
   *
   * @example Usage
   * ```ts
   * import { PrefixFingerprint } from "./prefix_fingerprint.ts";
   * import { RechunkStream } from "../batch/rechunk_stream.ts";
   * import { CsvDecodeStream } from "../codec/decode_stream.ts";
   * import assert from "node:assert/strict";
   *
   * const fingerprint = new PrefixFingerprint();
   * const batches = await Array.fromAsync(
   *   ReadableStream.from([new TextEncoder().encode("a\n1\n2\n3\n")])
   *     .pipeThrough(fingerprint.tap)
   *     .pipeThrough(new CsvDecodeStream({ copyFormat: "text" }))
   *     .pipeThrough(new RechunkStream({
   *       batchSize: 2,
   *       hooks: fingerprint.batchHooks("text", "csv", true),
   *     })),
   * );
   * assert.deepEqual(batches.map((b) => b.prefix?.lines), [3, 4]);
   * assert.equal(new TextDecoder().decode(batches[1].raw), "3\n");
   * ```
   */
  batchHooks(
    format: CopyFormat,
    input: InputFormat = "csv",
    keepRaw = false,
  ): BatchHooks {
    let pieces: Uint8Array[] | undefined = keepRaw ? [] : undefined;
    return {
      added: (offset) => this.#advance(offset, pieces),
      cut: (batch) => {
        const stamped = this.#stamp(batch, format, input, pieces);
        pieces = keepRaw ? [] : undefined;
        return stamped;
      },
    };
  }

  /**
   * A stage that stamps each batch with the fingerprint of the source up to
   * its end, so the hashing happens while the previous batch is written,
   * not inside a transaction. Queue: one batch (highWaterMark 1). The
   * chunks of every batch in its queues and the rechunk stage's wait to be
   * hashed; {@linkcode PrefixFingerprint.batchHooks} holds fewer.
   *
   * @param format The COPY format of the batches (to find the line feeds
   * inside a record).
   * @param format The COPY format of the batches (to find the line feeds
   * inside a record).
   * @param input The input format: an NDJSON record is always one line.
   * @param keepRaw Also attach the batch's own source bytes as `raw`.
   * @returns The stamping `TransformStream`.
   */
  stamp(
    format: CopyFormat,
    input: InputFormat = "csv",
    keepRaw = false,
  ): TransformStream<Batch, Batch> {
    return new TransformStream<Batch, Batch>(
      {
        transform: (batch, controller) => {
          const pieces = keepRaw ? [] : undefined;
          controller.enqueue(this.#stamp(batch, format, input, pieces));
        },
      },
      { highWaterMark: 1 },
      { highWaterMark: 1 },
    );
  }

  /**
   * The batch with its prefix, hashing through its end; with `pieces`
   * (what was hashed of the batch so far), also its raw bytes.
   */
  #stamp(
    batch: Batch,
    format: CopyFormat,
    input: InputFormat,
    pieces: Uint8Array[] | undefined,
  ): Batch {
    const rows = rowCount(batch);
    const reject = batch.rejects?.at(-1);
    if (batch.error || (rows === 0 && reject === undefined)) return batch;
    // The batch ends with its last record: a row, or a malformed record
    // the codec rejected (which knows its lines).
    const prefix: PrefixState = reject !== undefined &&
        (rows === 0 || reject.endOffset > batch.endOffsets[rows - 1])
      ? {
        fingerprint: this.#hashTo(reject.endOffset, pieces),
        lines: reject.lines,
      }
      : this.#prefixAt(batch, rows - 1, format, input, pieces);
    return { ...batch, ...(pieces && { raw: concat(pieces) }), prefix };
  }

  #consume(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#hash.update(bytes);
    this.#hashed += bytes.length;
    this.#lastByte = bytes[bytes.length - 1];
  }
}

/**
 * Line breaks in the source up to the end of a block's record `last`: that
 * record's first line, plus the line feeds inside it (escaped as `\n` in
 * COPY text, raw in COPY csv), plus its terminator when it has one.
 */
function linesThrough(
  block: RowBlock,
  last: number,
  format: CopyFormat,
  terminated: boolean,
): number {
  const data = block.data;
  const end = block.rowEnds[last] - 1;
  let inner = 0;
  if (format === "csv") {
    for (let k = rowStart(block, last); k < end; k++) {
      if (data[k] === LF) inner++;
    }
  } else {
    for (let k = rowStart(block, last); k < end; k++) {
      if (data[k] === BACKSLASH && data[++k] === 0x6e) inner++;
    }
  }
  return block.lines[last] - 1 + inner + (terminated ? 1 : 0);
}

function concat(pieces: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(
    pieces.reduce((sum, piece) => sum + piece.length, 0),
  );
  let at = 0;
  for (const piece of pieces) {
    bytes.set(piece, at);
    at += piece.length;
  }
  return bytes;
}
