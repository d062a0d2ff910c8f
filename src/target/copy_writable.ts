/**
 * A Node `Writable` (pg-copy-streams' COPY FROM STDIN stream) as a Web
 * `WritableStream`.
 *
 * @module
 */

import type { Writable } from "node:stream";
import type { EventEmitter } from "node:events";
import { Buffer } from "node:buffer";

/**
 * Wraps a COPY stream: `write` resolves when the Node write callback fires
 * (real backpressure), `close` resolves only on `finish` (the server's
 * CommandComplete), `abort` sends CopyFail. Any `error` of the stream, and
 * an `error` or `end` of the connection (`client`), fails the pending
 * operation instead of leaving it waiting forever.
 *
 * @param stream The COPY stream, from `client.query(copyFrom(sql))`.
 * @param client The connection it runs on, watched for errors and its end.
 * @returns A `WritableStream` with a queue of one chunk.
 *
 * @example Usage
 * ```ts
 * import { copyWritable } from "./copy_writable.ts";
 * import { Writable } from "node:stream";
 * import assert from "node:assert/strict";
 *
 * const seen: string[] = [];
 * const node = new Writable({
 *   write(chunk, _encoding, callback) {
 *     seen.push(String(chunk));
 *     callback();
 *   },
 * });
 * const writer = copyWritable(node).getWriter();
 * await writer.write(new TextEncoder().encode("1\n"));
 * await writer.close();
 * assert.deepEqual(seen, ["1\n"]);
 * ```
 */
export function copyWritable(
  stream: Writable,
  client?: EventEmitter,
): WritableStream<Uint8Array> {
  const { promise: failed, reject: fail } = Promise.withResolvers<never>();
  failed.catch(() => {});
  const onError = (error: unknown) => fail(error);
  const onEnd = () => fail(new Error("Connection to the database ended"));
  stream.on("error", onError);
  client?.on("error", onError);
  client?.on("end", onEnd);
  const detach = () => {
    client?.off("error", onError);
    client?.off("end", onEnd);
  };
  return new WritableStream<Uint8Array>({
    write(chunk) {
      const written = new Promise<void>((resolve, reject) => {
        const buffer = Buffer.from(
          chunk.buffer,
          chunk.byteOffset,
          chunk.byteLength,
        );
        stream.write(buffer, (error) => error ? reject(error) : resolve());
      });
      return Promise.race([written, failed]);
    },
    async close() {
      const finished = new Promise<void>((resolve) => {
        stream.once("finish", resolve);
      });
      stream.end();
      try {
        await Promise.race([finished, failed]);
      } finally {
        detach();
      }
    },
    abort(reason) {
      detach();
      stream.destroy(
        reason instanceof Error ? reason : new Error(String(reason)),
      );
    },
  }, { highWaterMark: 1 });
}
