/**
 * What a batch's COPY sends: its rows in COPY binary when every value
 * follows the binary encoders' rules (the server then parses less), else
 * in COPY text as the codec wrote them; the lane seqs spliced in either
 * way. The choice is made per batch: each batch is its own COPY. A batch
 * the decode thread already encoded (`encoded_ahead.ts`) is not encoded
 * again.
 *
 * @module
 */

import type { BinaryMiss, BinaryRows } from "../codec/binary/binary_rows.ts";
import { encodedAhead, fillSeqs } from "../codec/binary/encoded_ahead.ts";
import type { Batch } from "../codec/row_block.ts";
import { UsageError } from "../errors.ts";
import type { CopySpec } from "../target/target.ts";
import { spliceSeqChunks } from "./seq_splice.ts";
import type { RowsApplied } from "./upsert_staging.ts";

/** What a committed batch did, besides its rows. */
export interface BatchOutcome {
  /** Upsert: what its records did to the table. */
  applied?: RowsApplied;
  /** Whether its rows went in COPY binary. */
  binary: boolean;
}

/** How batches go: `auto` picks binary per batch where it can. */
export type CopyFormatChoice = "text" | "binary" | "auto";

/** A batch's COPY, ready to send. */
export interface CopyData {
  /** The COPY's table, columns and format (`binary` or the text spec's). */
  spec: CopySpec;
  /** The rows, at once or as chunks made as they are sent. */
  data: Uint8Array | Iterable<Uint8Array>;
  /** Whether they go in binary. */
  binary: boolean;
}

/** How {@linkcode copyData} encodes a batch. */
export interface CopyEncoding {
  /** The text COPY (the codec's rows, the seq column last when written). */
  spec: CopySpec;
  /** The binary encoder of the COPY's columns, when the load may use it. */
  binary?: BinaryRows;
  /** `binary`: a batch that cannot go in binary stops the load. */
  forced?: boolean;
  /** The source's name, for that error. */
  source?: string;
}

/**
 * The COPY of `batch`: binary when `encoding.binary` takes every value
 * (and `text` is not asked for), else text; with `seqs`, each row's seq
 * goes in the last column.
 *
 * @param batch The batch's rows (COPY text).
 * @param seqs Each row's seq, when the table takes them.
 * @param encoding The text spec and the binary encoder.
 * @param text Send text whatever the values (a batch the server refused
 * in binary goes again in text, so its errors read as ever).
 * @returns The COPY to send.
 *
 * @example Text when there is no binary encoder
 * ```ts
 * import { copyData } from "./copy_data.ts";
 * import assert from "node:assert/strict";
 *
 * const spec = { table: { schema: "public", table: "t" }, columns: ["a"], format: "text" as const };
 * const batch = {
 *   data: new TextEncoder().encode("x\n"), rowEnds: Uint32Array.of(2),
 *   lines: Float64Array.of(1), endOffsets: Float64Array.of(2), startOffset: 0, endOffset: 2,
 * };
 * const copy = copyData(batch, undefined, { spec });
 * assert.equal(copy.binary, false);
 * assert.equal(copy.data, batch.data);
 * ```
 */
export function copyData(
  batch: Batch,
  seqs: Float64Array | undefined,
  encoding: CopyEncoding,
  text = false,
): CopyData {
  const { spec } = encoding;
  if (encoding.binary !== undefined && !text) {
    const encoded = encodedBinary(batch, seqs, encoding.binary);
    if (encoded instanceof Uint8Array) {
      return {
        spec: { ...spec, format: "binary" },
        data: encoded,
        binary: true,
      };
    }
    if (encoding.forced) {
      throw new UsageError(
        `Cannot send ${encoding.source ?? "the input"}:${
          batch.lines[encoded.row]
        } in COPY binary (--copy-format binary): the value of column "${
          spec.columns[encoded.field]
        }" is not in a form the binary encoder takes (see --help); use --copy-format auto to send such batches as text`,
      );
    }
  }
  return {
    spec,
    data: seqs === undefined
      ? batch.data
      : spliceSeqChunks(batch, seqs, spec.format as "text" | "csv"),
    binary: false,
  };
}

/**
 * The batch's binary: made ahead (its seqs filled in), else encoded now.
 */
function encodedBinary(
  batch: Batch,
  seqs: Float64Array | undefined,
  encoder: BinaryRows,
): Uint8Array | BinaryMiss {
  const ahead = encodedAhead(batch, {
    ...encoder.options,
    seqs: seqs !== undefined,
  });
  if (ahead === undefined) return encoder.encode(batch, seqs);
  if (!(ahead instanceof Uint8Array) || seqs === undefined) return ahead;
  return fillSeqs(ahead, seqs);
}
