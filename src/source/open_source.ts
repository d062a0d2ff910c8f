/**
 * The source stage: a file or standard input as a byte stream.
 *
 * @module
 */

import { resolve } from "node:path";
import { SourceError, UsageError } from "../errors.ts";
import { peekHead } from "./_peek.ts";

/**
 * An input to load: its bytes and the name messages give it. A library
 * caller may build one around any byte stream and pass it to `ingest`.
 *
 * @example A source built from a stream
 * ```ts
 * import { ingest, openTarget, type Source } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const source: Source = {
 *   name: "inline.csv",
 *   readable: ReadableStream.from([new TextEncoder().encode("id\n1\n2\n")]),
 * };
 * const dataDir = await Deno.makeTempDir();
 * const summary = await ingest({ source, table: "t", create: true, dataDir });
 * assert.equal(summary.rows, 2);
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface Source {
  /** The name used in messages: the path as given, or `<stdin>`. */
  readonly name: string;
  /** The bytes. */
  readonly readable: ReadableStream<Uint8Array>;
  /** The size in bytes, when known (a regular file). */
  readonly size?: number;
  /** The file's canonical path (a file, not stdin). */
  readonly realPath?: string;
}

/** Bytes a regular file is read in per chunk, as `FsFile.readable` reads. */
const FILE_CHUNK_BYTES = 64 * 1024;

/** Streams whose gzip, if any, is undone already; see {@linkcode gunzipWhenGzip}. */
const unzipped = new WeakSet<ReadableStream<Uint8Array>>();

/** Streams whose chunks are buffers of their own; see {@linkcode hasOwnedChunks}. */
const owned = new WeakSet<ReadableStream<Uint8Array>>();

/**
 * Marks `readable` as one whose every chunk is a buffer of its own that
 * nothing else holds; see {@linkcode hasOwnedChunks}.
 *
 * @param readable A stream that allocates a fresh buffer for each chunk, or
 * passes on unchanged the chunks of one that does.
 * @returns `readable`.
 */
export function markOwnedChunks(
  readable: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  owned.add(readable);
  return readable;
}

/**
 * Whether every chunk of `readable` is a buffer of its own that nothing else
 * holds, so that its reader may move the buffer to another thread
 * (transfer it) instead of copying it: true for the streams
 * {@linkcode openSource} opens (each read of a file or of standard input
 * fills a new buffer) and those marked with {@linkcode markOwnedChunks}.
 * Any other stream, such as one a library caller built, may share or reuse
 * its buffers, and gives false.
 *
 * @param readable A stream.
 * @returns Whether its chunks' buffers are the reader's to move.
 *
 * @example Usage
 * ```ts
 * import { hasOwnedChunks, openSource } from "./open_source.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * const source = await openSource(path);
 * assert.ok(hasOwnedChunks(source.readable));
 * assert.ok(!hasOwnedChunks(ReadableStream.from([new Uint8Array(1)])));
 * await source.readable.cancel();
 * await Deno.remove(path);
 * ```
 */
export function hasOwnedChunks(readable: ReadableStream<Uint8Array>): boolean {
  return owned.has(readable);
}

/**
 * Opens `path` (relative to `cwd`), or standard input for `-`. Input that
 * starts with gzip's magic bytes (`1f 8b`), a file's or standard input's,
 * comes out decompressed; offsets then count decompressed bytes.
 *
 * @param path A file path, or `-`.
 * @param cwd The directory relative paths start from. Default: the process's.
 * @returns The source, ready to read.
 *
 * @example Usage
 * ```ts
 * import { openSource } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "a\n1\n");
 * const source = await openSource(path);
 * assert.equal(source.size, 4);
 * await source.readable.cancel();
 * await Deno.remove(path);
 * ```
 */
export async function openSource(
  path: string,
  cwd: string = Deno.cwd(),
): Promise<Source> {
  if (path === "-") {
    return {
      name: "<stdin>",
      readable: markOwnedChunks(gunzipWhenGzip(Deno.stdin.readable, "<stdin>")),
    };
  }
  const fullPath = resolve(cwd, path);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(fullPath, { read: true });
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (error as Error).message;
    throw new UsageError(`Cannot read ${path}: ${why}`);
  }
  const info = await file.stat();
  if (info.isDirectory) {
    file.close();
    throw new UsageError(`Cannot read ${path}: it is a directory`);
  }
  const gzip = info.isFile && await isGzip(file);
  const raw = info.isFile
    ? guardFile(fileChunks(file), fullPath, info, path)
    : gunzipWhenGzip(file.readable, path); // a pipe: looked at as it is read
  const readable = markOwnedChunks(gzip ? gunzip(raw, path) : raw);
  unzipped.add(readable);
  return {
    name: path,
    readable,
    // Offsets count the decompressed bytes, whose total is not known ahead.
    size: info.isFile && !gzip ? info.size : undefined,
    realPath: await Deno.realPath(fullPath),
  };
}

/** Whether the file starts with gzip's magic bytes; leaves it at its start. */
async function isGzip(file: Deno.FsFile): Promise<boolean> {
  const magic = new Uint8Array(2);
  const read = await file.read(magic);
  await file.seek(0, Deno.SeekMode.Start);
  return read === 2 && isGzipMagic(magic);
}

/**
 * `readable`, decompressed when its first bytes are gzip's magic (`1f 8b`),
 * else as it is: for a stream that cannot be looked at before it is read
 * (standard input, a pipe). It looks when it is first read, not before, and
 * passes a cancel on to `readable`. A stream whose chunks are its reader's
 * own gives such chunks still (mark it with {@linkcode markOwnedChunks}).
 * A stream {@linkcode openSource} opened, or this function returned, comes
 * back as it is: its gzip was undone already.
 *
 * @param readable The bytes, gzip-compressed or not.
 * @param name The input's name, for the error when its gzip is not valid.
 * @returns The bytes, decompressed.
 *
 * @example Usage
 * ```ts
 * import { gunzipWhenGzip } from "./open_source.ts";
 * import assert from "node:assert/strict";
 *
 * const text = "id\n1\n";
 * const plain = ReadableStream.from([new TextEncoder().encode(text)]);
 * const gzip = plain.pipeThrough(new CompressionStream("gzip"));
 * const bytes = await new Response(gunzipWhenGzip(gzip, "<stdin>")).text();
 * assert.equal(bytes, text);
 * const same = ReadableStream.from([new TextEncoder().encode(text)]);
 * const once = gunzipWhenGzip(same, "<stdin>");
 * assert.equal(gunzipWhenGzip(once, "<stdin>"), once);
 * assert.equal(await new Response(once).text(), text);
 * ```
 */
export function gunzipWhenGzip(
  readable: ReadableStream<Uint8Array>,
  name: string,
): ReadableStream<Uint8Array> {
  if (unzipped.has(readable)) return readable;
  /** Looks at the first two bytes, once. */
  const look = async () => {
    // One byte that is not gzip's first is enough: a live stream's first
    // record may be all there is for a while.
    const peeked = await peekHead(
      readable,
      (head) => head.length >= 2 || (head.length === 1 && head[0] !== 0x1f),
      2,
    );
    const bytes = isGzipMagic(peeked.head)
      ? gunzip(peeked.readable, name)
      : peeked.readable;
    return bytes.getReader();
  };
  let opened: ReturnType<typeof look> | undefined;
  const open = () => opened ??= look();
  const out = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await (await open()).read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      if (opened === undefined) return await readable.cancel(reason);
      const reader = await opened.catch(() => undefined);
      await reader?.cancel(reason);
    },
  }, { highWaterMark: 0 });
  unzipped.add(out);
  return out;
}

/** Whether `bytes` start with gzip's magic bytes. */
function isGzipMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompresses gzip, naming the file when its bytes are not valid gzip. */
function gunzip(
  compressed: ReadableStream<Uint8Array>,
  name: string,
): ReadableStream<Uint8Array> {
  const reader = compressed
    .pipeThrough(
      // Its writable side takes any BufferSource; we give it bytes.
      new DecompressionStream("gzip") as unknown as TransformStream<
        Uint8Array,
        Uint8Array
      >,
    )
    .getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (error) {
        controller.error(
          error instanceof SourceError ? error : new SourceError(
            `Cannot decompress ${name}: ${(error as Error).message}`,
          ),
        );
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * Reads a regular file as a stream that fails, rather than ending quietly,
 * when the file is cut short or replaced while it is read: a file that
 * ends before the size it had when opened, or whose path names another
 * file by the end, is an error (its last bytes may be half a record). A
 * gzip file (by its first bytes) comes out decompressed.
 *
 * @param path The file's path.
 * @param name The file's name in messages. Default: `path`.
 * @returns The bytes.
 *
 * @example Usage
 * ```ts
 * import { readFileGuarded } from "./open_source.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "a\n1\n");
 * const bytes = await Array.fromAsync(await readFileGuarded(path));
 * assert.equal(bytes.reduce((n, chunk) => n + chunk.length, 0), 4);
 * await Deno.remove(path);
 * ```
 */
export async function readFileGuarded(
  path: string,
  name: string = path,
): Promise<ReadableStream<Uint8Array>> {
  const file = await Deno.open(path, { read: true });
  const info = await file.stat();
  if (!info.isFile) return gunzipWhenGzip(file.readable, name);
  const gzip = await isGzip(file);
  const raw = guardFile(fileChunks(file), path, info, name);
  return gzip ? gunzip(raw, name) : raw;
}

/**
 * A regular file's bytes, each chunk a fresh buffer (so the chunks are
 * owned: see `markOwnedChunks`), read synchronously. `FsFile.readable`
 * makes each 64 KiB read an async op, whose hand-off between threads costs
 * far more than the read: a 555 MB file took 1.1-1.3 s of CPU that way and
 * 0.26 s read synchronously, in chunks of the same size. A read of a
 * regular file waits for the disk at most, never for a writer, so it
 * cannot hold the thread indefinitely (unlike a pipe's). Closes the file at
 * its end, on an error and when cancelled.
 */
function fileChunks(file: Deno.FsFile): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = new Uint8Array(FILE_CHUNK_BYTES);
      let read: number | null;
      try {
        read = file.readSync(chunk);
      } catch (error) {
        file.close();
        throw error;
      }
      if (read === null) {
        file.close();
        controller.close();
      } else {
        controller.enqueue(chunk.subarray(0, read));
      }
    },
    cancel: () => file.close(),
  });
}

function guardFile(
  readable: ReadableStream<Uint8Array>,
  path: string,
  opened: Deno.FileInfo,
  name: string = path,
): ReadableStream<Uint8Array> {
  let read = 0;
  return readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        read += chunk.length;
        controller.enqueue(chunk);
      },
      async flush() {
        if (read < opened.size) {
          throw new SourceError(
            `Cannot read ${name} to its end: it shrank from ${opened.size} to ${read} bytes while it was being read (truncated or rewritten); nothing past the last whole batch was committed`,
          );
        }
        const now = await Deno.stat(path).catch(() => undefined);
        if (
          now === undefined || now.ino !== opened.ino || now.dev !== opened.dev
        ) {
          throw new SourceError(
            `Cannot read ${name} to its end: it was ${
              now === undefined ? "removed" : "replaced by another file"
            } while it was being read; nothing past the last whole batch was committed`,
          );
        }
      },
    }),
  );
}
