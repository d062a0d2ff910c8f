import assert from "node:assert/strict";
import { writeInParallel } from "../src/parallel/parallel_writers.ts";
import type { WriterBatch } from "../src/parallel/writer_split.ts";

function batch(writer: number, endOffset: number, error?: Error): WriterBatch {
  return {
    data: new Uint8Array(0),
    rowEnds: new Uint32Array(0),
    lines: new Float64Array(0),
    endOffsets: new Float64Array(0),
    startOffset: 0,
    endOffset,
    writer,
    error,
  };
}

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

/** A writer that takes `ms` per batch and logs what happens to it. */
function slowWriter(
  log: string[],
  writer: number,
  ms: number,
  failAt?: number,
): WritableStream<WriterBatch> {
  return new WritableStream<WriterBatch>({
    async write(b) {
      log.push(`${writer} start ${b.endOffset}`);
      await tick(ms);
      if (b.endOffset === failAt) {
        log.push(`${writer} failed ${b.endOffset}`);
        throw new Error(`writer ${writer} failed at ${b.endOffset}`);
      }
      log.push(`${writer} done ${b.endOffset}`);
    },
    close() {
      log.push(`${writer} closed`);
    },
    abort() {
      log.push(`${writer} aborted`);
    },
  }, { highWaterMark: 1 });
}

Deno.test("writeInParallel() writes the first batch alone, then runs writers at once, each in order", async () => {
  const log: string[] = [];
  await writeInParallel(
    ReadableStream.from([
      batch(0, 1),
      batch(1, 2),
      batch(0, 3),
      batch(1, 4),
      batch(0, 5),
    ]),
    (w) => slowWriter(log, w, 20),
    { writers: 2 },
  );
  assert.deepEqual(log.slice(0, 3), ["0 start 1", "0 done 1", "1 start 2"]);
  // Writer 1's first batch runs while writer 0 writes its second.
  assert.ok(log.indexOf("0 start 3") < log.indexOf("1 done 2"));
  for (const w of [0, 1]) {
    const own = log.filter((line) => line.startsWith(`${w} done`));
    assert.deepEqual(own, own.toSorted());
  }
  assert.ok(log.at(-1)!.endsWith("closed") && log.at(-2)!.endsWith("closed"));
});

Deno.test("writeInParallel() holds at most one batch in a writer's transaction and one queued, and stops reading while it is full", async () => {
  let read = 0;
  const batches = new ReadableStream<WriterBatch>({
    pull(controller) {
      if (read === 12) return controller.close();
      controller.enqueue(batch(0, ++read));
    },
  }, { highWaterMark: 0 });
  const release: (() => void)[] = [];
  let writing = 0;
  let most = 0;
  const done = writeInParallel(
    batches,
    () =>
      new WritableStream({
        write: () => {
          most = Math.max(most, ++writing);
          return new Promise<void>((resolve) =>
            release.push(() => {
              writing--;
              resolve();
            })
          );
        },
      }, { highWaterMark: 1 }),
    { writers: 2 },
  );
  await tick(20);
  assert.equal(read, 1, "the first batch is written alone");
  release.shift()!();
  await tick(20);
  // One in the transaction, one queued, one held by dispatch.
  assert.equal(read, 4);
  await tick(20);
  assert.equal(read, 4, "dispatch waits while the writer is full");
  while (read < 12 || release.length > 0) {
    release.shift()?.();
    await tick(2);
  }
  await done;
  assert.equal(most, 1);
});

Deno.test("writeInParallel() dispatch waits for a full writer: no more than 2 batches handed to it ahead", async () => {
  const handed: number[] = [];
  const written: number[] = [];
  let read = 0;
  const batches = new ReadableStream<WriterBatch>({
    pull(controller) {
      if (read === 8) return controller.close();
      controller.enqueue(batch(0, ++read));
    },
  }, { highWaterMark: 0 });
  await writeInParallel(
    batches,
    () =>
      new WritableStream({
        async write(b) {
          handed.push(read - written.length);
          await tick(10);
          written.push(b.endOffset);
        },
      }, { highWaterMark: 1 }),
    { writers: 1 },
  );
  assert.deepEqual(written, [1, 2, 3, 4, 5, 6, 7, 8]);
  // Batches read but not yet written: the one being written, one queued,
  // and the one dispatch holds while it waits.
  assert.ok(Math.max(...handed) <= 3, `read ahead: ${handed}`);
});

Deno.test("writeInParallel() stops every writer when one fails: their batches in flight finish, the rest are dropped", async () => {
  const log: string[] = [];
  let cancelled: unknown;
  let read = 0;
  const batches = new ReadableStream<WriterBatch>({
    pull(controller) {
      read++;
      controller.enqueue(batch(read % 2, read));
    },
    cancel(reason) {
      cancelled = reason;
    },
  }, { highWaterMark: 0 });
  await assert.rejects(
    writeInParallel(
      batches,
      (w) => slowWriter(log, w, w === 0 ? 15 : 40, 4),
      { writers: 2 },
    ),
    /writer 0 failed at 4/,
  );
  assert.match(String(cancelled), /writer 0 failed at 4/);
  // Writer 1 was writing batch 3 (or 5) when writer 0 failed: it finished it.
  const started = log.filter((line) => line.startsWith("1 start"));
  for (const line of started) {
    assert.ok(log.includes(line.replace("start", "done")), `${line} finished`);
  }
  assert.ok(log.includes("1 aborted"));
  assert.ok(!log.some((line) => line.endsWith("closed")));
});

Deno.test("writeInParallel() fails with a malformed input's error once every writer has written what it holds", async () => {
  const log: string[] = [];
  const error = new SyntaxError("bad record");
  await assert.rejects(
    writeInParallel(
      ReadableStream.from([
        batch(0, 1),
        batch(1, 2),
        batch(0, 3),
        batch(-1, 3, error),
      ]),
      (w) => slowWriter(log, w, 20),
      { writers: 2 },
    ),
    (thrown) => thrown === error,
  );
  assert.ok(["0 done 1", "1 done 2", "0 done 3"].every((l) => log.includes(l)));
  assert.ok(!log.some((line) => line.endsWith("closed")));
});

Deno.test("writeInParallel() stops on its signal after the batches in flight", async () => {
  const log: string[] = [];
  const controller = new AbortController();
  const reason = new Error("stop");
  let read = 0;
  const batches = new ReadableStream<WriterBatch>({
    pull(c) {
      read++;
      if (read === 4) controller.abort(reason);
      c.enqueue(batch(read % 2, read));
    },
  }, { highWaterMark: 0 });
  await assert.rejects(
    writeInParallel(batches, (w) => slowWriter(log, w, 20), {
      writers: 2,
      signal: controller.signal,
    }),
    (thrown) => thrown === reason,
  );
  for (const line of log.filter((line) => line.includes("start"))) {
    assert.ok(log.includes(line.replace("start", "done")), `${line} finished`);
  }
  assert.ok(!log.some((line) => line.endsWith("closed")));
});
