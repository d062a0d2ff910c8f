import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { UsageError } from "../src/errors.ts";
import {
  checkPrefixes,
  PrefixCheckStream,
} from "../src/source/prefix_check_stream.ts";

const bytes = new TextEncoder().encode("id\n1\n22\n333\n4444\n");
const sha = (end: number) =>
  createHash("sha256").update(bytes.subarray(0, end)).digest("hex");

/** `bytes` in chunks of `size`. */
function chunks(size: number): ReadableStream<Uint8Array> {
  const parts = [];
  for (let at = 0; at < bytes.length; at += size) {
    parts.push(bytes.slice(at, at + size));
  }
  return ReadableStream.from(parts);
}

Deno.test("PrefixCheckStream checks every prefix, across chunk boundaries, and passes the bytes on unchanged", async (t) => {
  for (const size of [1, 3, 7, 100]) {
    await t.step(`chunks of ${size}`, async () => {
      const out = await Array.fromAsync(
        chunks(size).pipeThrough(
          new PrefixCheckStream({
            prefixes: [
              { byteOffset: 8, fingerprint: sha(8) },
              { byteOffset: 5, fingerprint: sha(5) },
              { byteOffset: 0, fingerprint: "" },
            ],
            holdFrom: 5,
          }),
        ),
      );
      const joined = new Uint8Array(out.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const chunk of out) {
        joined.set(chunk, (at += chunk.length) - chunk.length);
      }
      assert.deepEqual(joined, bytes);
    });
  }
});

Deno.test("PrefixCheckStream holds back the bytes past holdFrom until the longest prefix checks out", async () => {
  const input = new TransformStream<Uint8Array, Uint8Array>();
  const writer = input.writable.getWriter();
  const reader = input.readable.pipeThrough(
    new PrefixCheckStream({
      prefixes: [{ byteOffset: 12, fingerprint: sha(12) }],
      holdFrom: 3,
    }),
  ).getReader();
  const received: number[] = [];
  const reading = (async () => {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      received.push(value.length);
    }
  })();
  writer.write(bytes.slice(0, 5));
  writer.write(bytes.slice(5, 10));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(received, [3], "only the bytes before holdFrom");
  writer.write(bytes.slice(10));
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(received.reduce((n, length) => n + length, 0), bytes.length);
  await writer.close();
  await reading;
});

Deno.test("PrefixCheckStream refuses (exit 4) a changed prefix and a source shorter than a prefix, naming the writer", async () => {
  await assert.rejects(
    Array.fromAsync(
      chunks(4).pipeThrough(
        new PrefixCheckStream({
          prefixes: [{ byteOffset: 8, fingerprint: sha(7), writer: 2 }],
          sourceId: "s",
        }),
      ),
    ),
    (error) =>
      error instanceof UsageError && error.exitCode === 4 &&
      /Cannot resume source "s": its first 8 bytes \(the prefix already loaded\) have changed since they were loaded \(committed by writer 2\)/
        .test(error.message),
  );
  await assert.rejects(
    checkPrefixes(chunks(4), [{ byteOffset: 99, fingerprint: sha(8) }], "s"),
    /it is now 17 bytes long, shorter than the 99 bytes already loaded/,
  );
});

Deno.test("checkPrefixes() stops reading at the longest prefix", async () => {
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(bytes.slice(pulled, pulled + 2));
      pulled += 2;
      if (pulled >= bytes.length) pulled = 0; // never ends
    },
  }, { highWaterMark: 0 });
  await checkPrefixes(endless, [{ byteOffset: 6, fingerprint: sha(6) }]);
});
