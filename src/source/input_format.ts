/**
 * Which format a source is in, CSV or NDJSON: as given (`--format`), else
 * from the file's extension, else sniffed from its first non-blank byte
 * (`{` is NDJSON), without losing the bytes read to sniff.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { hasOwnedChunks, markOwnedChunks, type Source } from "./open_source.ts";

/** The input formats lanecopy reads. */
export type InputFormat = "csv" | "ndjson";

/** Bytes read at most while only blank ones come; then the input is CSV. */
const SNIFF_LIMIT = 1 << 20;

const EXTENSIONS: Record<string, InputFormat> = {
  csv: "csv",
  tsv: "csv",
  ndjson: "ndjson",
  jsonl: "ndjson",
  json: "ndjson",
};

/**
 * The format a file's extension names (a `.gz` suffix is looked past), or
 * `undefined` when it names none.
 *
 * @param path A file path.
 * @returns The format, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { formatFromPath } from "./input_format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatFromPath("events.jsonl"), "ndjson");
 * assert.equal(formatFromPath("dump/Orders.CSV.gz"), "csv");
 * assert.equal(formatFromPath("data.txt"), undefined);
 * ```
 */
export function formatFromPath(path: string): InputFormat | undefined {
  const name = path.toLowerCase().replace(/\.gz$/, "");
  const dot = name.lastIndexOf(".");
  if (dot < 0 || name.lastIndexOf("/") > dot) return undefined;
  return EXTENSIONS[name.slice(dot + 1)];
}

/**
 * The format the first non-blank byte of `bytes` implies (`{` is NDJSON,
 * anything else CSV), skipping a byte order mark; `undefined` while every
 * byte so far is blank.
 *
 * @param bytes The first bytes of a source.
 * @returns The format, or `undefined` when it cannot tell yet.
 *
 * @example Usage
 * ```ts
 * import { sniffFormat } from "./input_format.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = (text: string) => new TextEncoder().encode(text);
 * assert.equal(sniffFormat(bytes('\uFEFF\n  {"id": 1}')), "ndjson");
 * assert.equal(sniffFormat(bytes("id,name\n")), "csv");
 * assert.equal(sniffFormat(bytes(" \r\n")), undefined);
 * ```
 */
export function sniffFormat(bytes: Uint8Array): InputFormat | undefined {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  for (; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    // A byte order mark may still be arriving.
    if (i < 3 && b === [0xef, 0xbb, 0xbf][i] && bytes.length < 3) {
      return undefined;
    }
    return b === 0x7b ? "ndjson" : "csv";
  }
  return undefined;
}

/**
 * Parses a `--format` value.
 *
 * @param value `csv` or `ndjson`, or `undefined`.
 * @returns The format, or `undefined` when none was given.
 *
 * @example Usage
 * ```ts
 * import { parseInputFormat } from "./input_format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseInputFormat("ndjson"), "ndjson");
 * assert.throws(() => parseInputFormat("xml"), /expected csv or ndjson/);
 * ```
 */
export function parseInputFormat(
  value: string | undefined,
): InputFormat | undefined {
  if (value === undefined || value === "csv" || value === "ndjson") {
    return value;
  }
  throw new UsageError(`Cannot use --format ${value}: expected csv or ndjson`);
}

/**
 * A source's format: `given`, else its extension's, else sniffed from its
 * first non-blank byte. Sniffing reads the first chunks of the source; the
 * source returned replays them, so no byte is lost (and it passes the
 * chunks on unchanged: they are as much its reader's own as they were).
 *
 * @param source An open source, not yet read.
 * @param given The format the user named, if any.
 * @returns The format, and the source to read from now on.
 *
 * @example Sniff standard input
 * ```ts
 * import { resolveFormat } from "./input_format.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode('{"id": 1}\n');
 * const { format, source } = await resolveFormat({
 *   name: "<stdin>",
 *   readable: ReadableStream.from([bytes.subarray(0, 1), bytes.subarray(1)]),
 * });
 * assert.equal(format, "ndjson");
 * const chunks = await Array.fromAsync(source.readable);
 * assert.equal(chunks.reduce((n, chunk) => n + chunk.length, 0), bytes.length);
 * ```
 */
export async function resolveFormat(
  source: Source,
  given?: InputFormat,
): Promise<{ format: InputFormat; source: Source }> {
  const named = given ?? formatFromPath(source.name);
  if (named !== undefined) return { format: named, source };
  const reader = source.readable.getReader();
  const head: Uint8Array[] = [];
  let read = 0;
  let format: InputFormat | undefined;
  let done = false;
  try {
    while (format === undefined && !done && read < SNIFF_LIMIT) {
      const next = await reader.read();
      done = next.done;
      if (next.value === undefined || next.value.length === 0) continue;
      head.push(next.value);
      read += next.value.length;
      format = sniffFormat(head.length === 1 ? next.value : concat(head));
    }
  } catch (error) {
    reader.releaseLock();
    throw error;
  }
  const replay = new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      const chunk = head.shift();
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
  if (hasOwnedChunks(source.readable)) markOwnedChunks(replay);
  return {
    format: format ?? "csv",
    source: { ...source, readable: replay },
  };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}
