/**
 * Looking at the first bytes of a stream without losing them: the bytes
 * read to look are replayed, in the chunks they came in, before the rest.
 *
 * @module
 */

/**
 * What {@linkcode peekHead} saw, and the stream to read from now on.
 *
 * @example Usage
 * ```ts
 * import { type Peeked, peekHead } from "./_peek.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("ab");
 * const peeked: Peeked = await peekHead(ReadableStream.from([bytes]), () => false, 1);
 * assert.equal(peeked.head.length, 2);
 * assert.equal(peeked.done, false);
 * ```
 */
export interface Peeked {
  /** The bytes read, joined. */
  head: Uint8Array;
  /** Whether the stream ended within them. */
  done: boolean;
  /** Every byte of the stream, the head first. */
  readable: ReadableStream<Uint8Array>;
}

/**
 * Reads the first chunks of `readable` until `enough(head)` says they
 * suffice, the stream ends or `limit` bytes were read; returns them and a
 * stream that replays them, then reads on. Every chunk is passed on
 * unchanged, so a stream whose chunks were its reader's own gives such
 * chunks still (the caller marks it so: see `markOwnedChunks`).
 *
 * @param readable A stream, not yet read.
 * @param enough Whether the bytes read so far are enough to look at.
 * @param limit Bytes read at most.
 * @returns The bytes read, and the stream to read from now on.
 *
 * @example Usage
 * ```ts
 * import { peekHead } from "./_peek.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("id,name\n1,a\n");
 * const peeked = await peekHead(
 *   ReadableStream.from([bytes.subarray(0, 3), bytes.subarray(3)]),
 *   (head) => head.length >= 2,
 *   1 << 20,
 * );
 * assert.equal(new TextDecoder().decode(peeked.head), "id,");
 * const chunks = await Array.fromAsync(peeked.readable);
 * assert.equal(chunks.reduce((n, chunk) => n + chunk.length, 0), bytes.length);
 * ```
 */
export async function peekHead(
  readable: ReadableStream<Uint8Array>,
  enough: (head: Uint8Array) => boolean,
  limit: number,
): Promise<Peeked> {
  const reader = readable.getReader();
  const chunks: Uint8Array[] = [];
  let head: Uint8Array = new Uint8Array(0);
  let done = false;
  try {
    while (!done && head.length < limit && !enough(head)) {
      const next = await reader.read();
      done = next.done;
      if (next.value === undefined || next.value.length === 0) continue;
      chunks.push(next.value);
      head = chunks.length === 1 ? next.value : concat(head, next.value);
    }
  } catch (error) {
    reader.releaseLock();
    throw error;
  }
  const replay = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      const chunk = chunks.shift();
      if (chunk !== undefined) {
        controller.enqueue(chunk);
        return;
      }
      if (done) {
        controller.close();
        return;
      }
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel: (reason) => reader.cancel(reason),
  }, { highWaterMark: 0 });
  return { head, done, readable: replay };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(a.length + b.length);
  bytes.set(a);
  bytes.set(b, a.length);
  return bytes;
}
