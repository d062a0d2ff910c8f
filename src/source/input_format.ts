/**
 * Which format a source is in, CSV or NDJSON: as given (`--format`), else
 * from the file's extension, else sniffed from its first non-blank byte
 * (`{` is NDJSON), without losing the bytes read to sniff. Gzip is undone
 * first; inputs lanecopy does not read (Parquet, zip, a JSON array) are
 * refused by their first bytes, with what to do instead.
 *
 * @module
 */

import { ExitCode, UsageError } from "../errors.ts";
import { peekHead } from "./_peek.ts";
import {
  gunzipWhenGzip,
  hasOwnedChunks,
  markOwnedChunks,
  type Source,
} from "./open_source.ts";

/** The input formats lanecopy reads. */
export type InputFormat = "csv" | "ndjson";

/**
 * What an input's first bytes say it is: one of the formats lanecopy reads,
 * or gzip (compressed data), or a kind it does not read.
 *
 * @example Usage
 * ```ts
 * import { type ContentKind, sniffContent } from "./input_format.ts";
 * import assert from "node:assert/strict";
 *
 * const kind: ContentKind | undefined = sniffContent(new TextEncoder().encode("PAR1\x15"));
 * assert.equal(kind, "parquet");
 * ```
 */
export type ContentKind =
  | InputFormat
  | "gzip"
  | "parquet"
  | "zip"
  | "json-array";

/** Bytes read at most while only blank ones come; then the input is CSV. */
const SNIFF_LIMIT = 1 << 20;

const EXTENSIONS: Record<string, InputFormat> = {
  csv: "csv",
  tsv: "csv",
  tab: "csv",
  ndjson: "ndjson",
  jsonl: "ndjson",
  json: "ndjson",
};

/** Extensions of tab-delimited CSV. */
const TAB_EXTENSIONS = new Set(["tsv", "tab"]);

/** Magic bytes at an input's very start, and what they mean. */
const MAGIC: readonly [Uint8Array, ContentKind][] = [
  [Uint8Array.of(0x1f, 0x8b), "gzip"],
  [new TextEncoder().encode("PAR1"), "parquet"],
  // A zip's local file header; an empty archive; a spanned one.
  [Uint8Array.of(0x50, 0x4b, 0x03, 0x04), "zip"],
  [Uint8Array.of(0x50, 0x4b, 0x05, 0x06), "zip"],
  [Uint8Array.of(0x50, 0x4b, 0x07, 0x08), "zip"],
];

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
  return EXTENSIONS[extension(path)];
}

/**
 * The field delimiter a file's extension names: a tab for `.tsv` and
 * `.tab` (a `.gz` suffix is looked past), else `undefined` (the default,
 * or `--delimiter`, applies).
 *
 * @param path A file path.
 * @returns The delimiter, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { delimiterFromPath } from "./input_format.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(delimiterFromPath("items.tsv"), "\t");
 * assert.equal(delimiterFromPath("dump/items.TAB.gz"), "\t");
 * assert.equal(delimiterFromPath("items.csv"), undefined);
 * ```
 */
export function delimiterFromPath(path: string): string | undefined {
  return TAB_EXTENSIONS.has(extension(path)) ? "\t" : undefined;
}

/** A path's extension, lower case, a `.gz` suffix looked past; or "". */
function extension(path: string): string {
  const name = path.toLowerCase().replace(/\.gz$/, "");
  const dot = name.lastIndexOf(".");
  if (dot < 0 || name.lastIndexOf("/") > dot) return "";
  return name.slice(dot + 1);
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
 * What the first bytes of an input are: gzip, Parquet or zip by their magic
 * bytes at the very start; else by the first non-blank byte after a byte
 * order mark, NDJSON (`{`), a JSON array (`[`) or CSV (anything else).
 * `undefined` while it cannot tell yet: every byte so far is blank, or the
 * bytes so far begin a magic number.
 *
 * @param bytes The first bytes of an input.
 * @returns What they are, or `undefined` when it cannot tell yet.
 *
 * @example Usage
 * ```ts
 * import { sniffContent } from "./input_format.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = (text: string) => new TextEncoder().encode(text);
 * assert.equal(sniffContent(Uint8Array.of(0x1f, 0x8b, 8, 0)), "gzip");
 * assert.equal(sniffContent(bytes("PAR1\x15\x04")), "parquet");
 * assert.equal(sniffContent(bytes("PK\x03\x04\x14\x00")), "zip");
 * assert.equal(sniffContent(bytes(' \n [{"id": 1}]')), "json-array");
 * assert.equal(sniffContent(bytes('{"id": 1}\n')), "ndjson");
 * assert.equal(sniffContent(bytes("PARIS,FR\n")), "csv");
 * assert.equal(sniffContent(bytes("PA")), undefined);
 * ```
 */
export function sniffContent(bytes: Uint8Array): ContentKind | undefined {
  let partial = false;
  for (const [magic, kind] of MAGIC) {
    const n = Math.min(magic.length, bytes.length);
    if (!magic.subarray(0, n).every((b, i) => b === bytes[i])) continue;
    if (n === magic.length) return kind;
    partial = true;
  }
  if (partial) return undefined;
  const format = sniffFormat(bytes);
  if (format === "csv" && bytes[firstNonBlank(bytes)] === 0x5b) {
    return "json-array";
  }
  return format;
}

/** The index of the first byte that is not blank, after a byte order mark. */
function firstNonBlank(bytes: Uint8Array): number {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (i < bytes.length && [0x20, 0x09, 0x0a, 0x0d].includes(bytes[i])) i++;
  return i;
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
 * A source with its format resolved.
 *
 * @example Usage
 * ```ts
 * import { type ResolvedInput, resolveFormat } from "./input_format.ts";
 * import assert from "node:assert/strict";
 *
 * const input: ResolvedInput = await resolveFormat({
 *   name: "items.tsv",
 *   readable: ReadableStream.from([new TextEncoder().encode("id\tname\n")]),
 * });
 * assert.deepEqual([input.format, input.delimiter], ["csv", "\t"]);
 * ```
 */
export interface ResolvedInput {
  /** The input format. */
  format: InputFormat;
  /** The source to read from now on: it replays the bytes read to sniff. */
  source: Source;
  /** The field delimiter the name implies (`.tsv`, `.tab`), if any. */
  delimiter?: string;
}

/**
 * A source's format: `given`, else its extension's, else sniffed from its
 * first non-blank byte. Gzip is undone first (a stream not opened by
 * `openSource` is looked at for its magic bytes too). Unless `given`, the
 * first bytes are read and checked: a Parquet file, a zip archive, gzip
 * inside gzip, and a JSON array (where the name does not say CSV) are
 * refused (exit 2, bad input) with what to do instead. The source
 * returned replays the bytes read, so no byte is lost (and it passes the
 * chunks on unchanged: they are as much its reader's own as they were).
 *
 * @param source An open source, not yet read.
 * @param given The format the user named, if any: then nothing is read.
 * @returns The format, the source to read from now on, and the delimiter
 * its name implies.
 * @throws {UsageError} If the input is of a kind lanecopy does not read.
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
 *
 * @example Refuse a JSON array
 * ```ts
 * import { resolveFormat } from "./input_format.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   resolveFormat({
 *     name: "items.json",
 *     readable: ReadableStream.from([new TextEncoder().encode('[{"id": 1}]')]),
 *   }),
 *   /Cannot load items\.json: it is a JSON array; lanecopy reads NDJSON/,
 * );
 * ```
 */
export async function resolveFormat(
  source: Source,
  given?: InputFormat,
): Promise<ResolvedInput> {
  const delimiter = delimiterFromPath(source.name);
  const unzipped = gunzipWhenGzip(source.readable, source.name);
  if (hasOwnedChunks(source.readable)) markOwnedChunks(unzipped);
  if (given !== undefined) {
    return {
      format: given,
      source: { ...source, readable: unzipped },
      delimiter,
    };
  }
  const peeked = await peekHead(
    unzipped,
    (head) => sniffContent(head) !== undefined,
    SNIFF_LIMIT,
  );
  if (hasOwnedChunks(source.readable)) markOwnedChunks(peeked.readable);
  const resolved = { ...source, readable: peeked.readable };
  const named = formatFromPath(source.name);
  const kind = sniffContent(peeked.head) ?? sniffFormat(peeked.head) ?? "csv";
  const refusal = kind === "json-array" && named === "csv"
    ? undefined // a CSV header may start with "["
    : refusalOf(kind, source);
  if (refusal !== undefined) {
    await peeked.readable.cancel().catch(() => {});
    throw new UsageError(
      `Cannot load ${source.name}: ${refusal}`,
      ExitCode.BadInput,
    );
  }
  const format = named ?? (kind === "ndjson" ? "ndjson" : "csv");
  return { format, source: resolved, delimiter };
}

/** Why an input of `kind` cannot load, and what to do; none when it can. */
function refusalOf(kind: ContentKind, source: Source): string | undefined {
  switch (kind) {
    case "parquet":
      return "it is a Parquet file; lanecopy reads CSV and NDJSON (export it to CSV first)";
    case "zip":
      return "it is a zip archive; lanecopy reads CSV and NDJSON, plain or gzip-compressed (extract it first, with unzip)";
    case "gzip":
      return "it is gzip inside gzip; lanecopy undoes one layer of gzip (decompress it once first, with gunzip)";
    case "json-array":
      return `it is a JSON array; lanecopy reads NDJSON, one object per line (convert it with: ${
        jqCommand(source)
      })`;
  }
  return undefined;
}

/** The command that turns a JSON array into NDJSON, for `source`. */
function jqCommand(source: Source): string {
  if (source.realPath === undefined) return "jq -c '.[]' FILE";
  const file = shellQuote(source.name);
  return /\.gz$/i.test(source.name)
    ? `gunzip -c ${file} | jq -c '.[]'`
    : `jq -c '.[]' ${file}`;
}

/** `text` as one shell word. */
function shellQuote(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text)
    ? text
    : `'${text.replaceAll("'", "'\\''")}'`;
}
