/**
 * The decode stage: CSV bytes in, encoded COPY row blocks out.
 *
 * @module
 */

import { CsvCopyCodec, type CsvCopyCodecOptions } from "./csv_codec.ts";
import { type RowBlock, rowCount } from "./row_block.ts";

/**
 * A `TransformStream` from CSV bytes to {@linkcode RowBlock}s, one block
 * per input chunk that completes at least one record. It holds at most one
 * block ahead (readable highWaterMark 1).
 *
 * @example Usage
 * ```ts
 * import { CsvDecodeStream } from "./decode_stream.ts";
 * import assert from "node:assert/strict";
 *
 * const decode = new CsvDecodeStream({ source: "t.csv" });
 * const input = ReadableStream.from([new TextEncoder().encode("a,b\n1,\n")]);
 * const blocks = await Array.fromAsync(input.pipeThrough(decode));
 * assert.deepEqual(await decode.header, ["a", "b"]);
 * assert.equal(new TextDecoder().decode(blocks[0].data), "1\t\\N\n");
 * ```
 */
export class CsvDecodeStream extends TransformStream<Uint8Array, RowBlock> {
  /**
   * The header's names once read; `undefined` when the input had no header
   * (`header: false`, or empty input). Rejects if the input fails first.
   */
  readonly header: Promise<string[] | undefined>;

  /** @param options How to read the CSV; see {@linkcode CsvCopyCodecOptions}. */
  constructor(options: CsvCopyCodecOptions = {}) {
    const codec = new CsvCopyCodec(options);
    const wantsHeader = options.header ?? true;
    const { promise, resolve, reject } = Promise.withResolvers<
      string[] | undefined
    >();
    promise.catch(() => {}); // observed by whoever awaits it, if anyone
    const settleHeader = () => {
      if (!wantsHeader || codec.header !== undefined) resolve(codec.header);
    };
    super(
      {
        transform(chunk, controller) {
          try {
            const block = codec.push(chunk);
            settleHeader();
            if (rowCount(block) > 0) controller.enqueue(block);
          } catch (error) {
            reject(error);
            throw error;
          }
        },
        flush(controller) {
          try {
            const block = codec.finish();
            resolve(codec.header);
            if (rowCount(block) > 0) controller.enqueue(block);
          } catch (error) {
            reject(error);
            throw error;
          }
        },
        cancel(reason) {
          reject(reason);
        },
      },
      { highWaterMark: 1 },
      { highWaterMark: 1 },
    );
    this.header = promise;
  }
}
