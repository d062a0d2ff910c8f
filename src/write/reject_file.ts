/**
 * The reject file: records that could not load (malformed, or rejected by
 * the server), copied byte for byte from the source into `PATH`, with a
 * sidecar `PATH.log` of JSON lines saying where each came from and why.
 *
 * Exactly once: each record is keyed by its source id and source byte
 * offset, and a record already in the log is not written again, so a
 * resumed run (which meets the rejects of its last, uncommitted batch
 * again) adds no duplicates. Rejects are written and synced before their
 * batch commits; a crash between the two leaves them in the file, where
 * the re-run finds them. On open, bytes past the last logged record (a
 * write the crash cut short) are cut off.
 *
 * The file starts with the source's header line (a CSV source's with a
 * header), written once, with the first record: after fixing the records,
 * the same command with the reject file as its input loads them.
 *
 * @module
 */

import { headerEnd } from "../source/header_line.ts";

/** One rejected record. */
export interface Reject {
  /** The source's name, as in messages. */
  source: string;
  /** The source id its progress is kept under. */
  sourceId: string;
  /** The record's first source line. */
  line: number;
  /**
   * Where in the line (code points) a malformed record's error is, or the
   * column's name for a row the server rejected.
   */
  column: number | string;
  /**
   * A malformed record's error line (`column` is on it), which may be past
   * `line` when the record spans lines; none for a row the server rejected.
   */
  errorLine?: number;
  /** The record's source byte range, `[startOffset, endOffset)`. */
  startOffset: number;
  /** Just after the record. */
  endOffset: number;
  /** Why it was rejected. */
  reason: string;
  /** The record's own bytes, terminator included. */
  bytes: Uint8Array;
}

/**
 * How {@linkcode RejectFile.open} opens a reject file.
 *
 * @example Usage
 * ```ts
 * import { RejectFile, type RejectFileOptions } from "./reject_file.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const options: RejectFileOptions = { header: new TextEncoder().encode("id\n") };
 * const file = await RejectFile.open(`${dir}/rejects.csv`, options);
 * assert.deepEqual(file.header, options.header);
 * file.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface RejectFileOptions {
  /**
   * The source's header line, its bytes as the source has them (line
   * break included): the file starts with it. None for NDJSON or a CSV
   * source without a header.
   */
  header?: Uint8Array;
}

/** A line of `PATH.log`. */
interface LogEntry {
  source: string;
  source_id: string;
  /** `malformed` (the codec could not read it) or `rejected` (the server refused it). */
  kind: "malformed" | "rejected";
  line: number;
  column: number | string;
  /** For a malformed record: the line of its error, where `column` is. */
  error_line?: number;
  start_offset: number;
  end_offset: number;
  reason: string;
  /** Where the record's bytes start in the reject file. */
  reject_offset: number;
  /** Their length. */
  reject_bytes: number;
}

const LF = 0x0a;
const CR = 0x0d;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * An open reject file. Open it with {@linkcode RejectFile.open}, write each
 * batch's rejects before the batch commits, close it at the end.
 *
 * @example Usage
 * ```ts
 * import { RejectFile } from "./reject_file.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const reject = {
 *   source: "in.csv", sourceId: "s", line: 3, column: "qty", startOffset: 10,
 *   endOffset: 15, reason: "invalid input syntax for type integer",
 *   bytes: new TextEncoder().encode("x,yy\n"),
 * };
 * const header = new TextEncoder().encode("id,qty\n");
 * const file = await RejectFile.open(`${dir}/rejects.csv`, { header });
 * assert.equal(await file.write([reject]), 1);
 * await file.close();
 * // A resumed run meets the same record again: it is not written twice.
 * const again = await RejectFile.open(`${dir}/rejects.csv`, { header });
 * assert.equal(await again.write([reject]), 0);
 * await again.close();
 * assert.equal(await Deno.readTextFile(`${dir}/rejects.csv`), "id,qty\nx,yy\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class RejectFile {
  /** The reject file's path. */
  readonly path: string;
  /** The header line the file starts with, if any. */
  readonly header?: Uint8Array;
  readonly #data: Deno.FsFile;
  readonly #log: Deno.FsFile;
  readonly #seen: Set<string>;
  #size: number;
  #written = 0;

  private constructor(
    path: string,
    data: Deno.FsFile,
    log: Deno.FsFile,
    seen: Set<string>,
    size: number,
    header: Uint8Array | undefined,
  ) {
    this.path = path;
    this.header = header;
    this.#data = data;
    this.#log = log;
    this.#seen = seen;
    this.#size = size;
  }

  /**
   * Opens (or creates) `path` and `path.log`, reads which records the log
   * already holds, and cuts off any bytes a crash left past them. The
   * header, if given, is written before the file's first record (a file
   * that holds records has it already).
   *
   * @param path The reject file's path.
   * @param options The source's header line.
   * @returns The open reject file.
   */
  static async open(
    path: string,
    options: RejectFileOptions = {},
  ): Promise<RejectFile> {
    const logPath = `${path}.log`;
    const text = await Deno.readTextFile(logPath).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return "";
      throw error;
    });
    const seen = new Set<string>();
    let logBytes = 0;
    let size = 0;
    for (const line of text.split("\n").slice(0, -1)) {
      let entry: LogEntry;
      try {
        entry = JSON.parse(line);
      } catch {
        break; // a line a crash cut short: it and what follows go
      }
      seen.add(key(entry.source_id, entry.start_offset));
      size = Math.max(size, entry.reject_offset + entry.reject_bytes);
      logBytes += encoder.encode(line).length + 1;
    }
    const data = await Deno.open(path, {
      read: true,
      write: true,
      create: true,
    });
    const log = await Deno.open(logPath, {
      read: true,
      write: true,
      create: true,
    });
    await data.truncate(size);
    await log.truncate(logBytes);
    await data.seek(size, Deno.SeekMode.Start);
    await log.seek(logBytes, Deno.SeekMode.Start);
    return new RejectFile(path, data, log, seen, size, options.header);
  }

  /** Records written by this run (not counting those found already there). */
  get written(): number {
    return this.#written;
  }

  /**
   * Appends the records not already in the file, then syncs both files to
   * disk.
   *
   * @param rejects The records.
   * @returns How many were written (the rest were there already).
   */
  async write(rejects: readonly Reject[]): Promise<number> {
    const fresh = rejects.filter((reject) =>
      !this.#seen.has(key(reject.sourceId, reject.startOffset))
    );
    if (fresh.length === 0) return 0;
    if (this.#size === 0 && this.header !== undefined) {
      // Synced with the first records; a log line names bytes past it.
      await writeAll(this.#data, this.header);
      this.#size = this.header.length;
    }
    const lines: string[] = [];
    for (const reject of fresh) {
      // A record the input ended without a line break gets one here.
      const last = reject.bytes.at(-1);
      const bytes = last === LF || last === CR
        ? reject.bytes
        : concat(reject.bytes, Uint8Array.of(LF));
      await writeAll(this.#data, bytes);
      const entry: LogEntry = {
        source: reject.source,
        source_id: reject.sourceId,
        kind: reject.errorLine === undefined ? "rejected" : "malformed",
        line: reject.line,
        column: reject.column,
        ...(reject.errorLine !== undefined &&
          { error_line: reject.errorLine }),
        start_offset: reject.startOffset,
        end_offset: reject.endOffset,
        reason: reject.reason,
        reject_offset: this.#size,
        reject_bytes: bytes.length,
      };
      this.#size += bytes.length;
      lines.push(JSON.stringify(entry) + "\n");
    }
    // The records first: a log line never names bytes that are not there.
    await this.#data.syncData();
    await writeAll(this.#log, encoder.encode(lines.join("")));
    await this.#log.syncData();
    for (const reject of fresh) {
      this.#seen.add(key(reject.sourceId, reject.startOffset));
    }
    this.#written += fresh.length;
    return fresh.length;
  }

  /** Closes both files. */
  close(): void {
    this.#data.close();
    this.#log.close();
  }
}

/**
 * A record's own bytes out of the source bytes `[from, to)` that hold it:
 * blank lines before it, and the header when the range starts the source,
 * are not part of it.
 *
 * @param range The source bytes that end with the record.
 * @param skipHeader The range starts at the source's start, with a header
 * record before the first record: `true` (CSV, quoted with `"`), or the
 * header's length in bytes.
 * @returns The record's bytes.
 *
 * @example Usage
 * ```ts
 * import { recordBytes } from "./reject_file.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode('id,"a\nb"\n\n7,x\n');
 * assert.equal(new TextDecoder().decode(recordBytes(bytes, true)), "7,x\n");
 * assert.equal(new TextDecoder().decode(recordBytes(bytes, 9)), "7,x\n");
 * ```
 */
export function recordBytes(
  range: Uint8Array,
  skipHeader: boolean | number,
): Uint8Array {
  let at = 0;
  if (typeof skipHeader === "number") at = skipHeader;
  else if (skipHeader) at = headerEnd(range) ?? range.length;
  // Blank lines (or lines of spaces, between NDJSON records).
  let lineStart = at;
  for (; at < range.length; at++) {
    const b = range[at];
    if (b === LF || b === 0x0d) lineStart = at + 1;
    else if (b !== 0x20 && b !== 0x09) break;
  }
  return range.subarray(lineStart);
}

/**
 * A summary of a reject log, for messages: how many records it holds for a
 * source id.
 *
 * @param path The reject file's path (the log is `path.log`).
 * @param sourceId The source id.
 * @returns The number of logged rejects of that source.
 *
 * @example Usage
 * ```ts
 * import { countRejects } from "./reject_file.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await countRejects("/nonexistent/rejects.csv", "s"), 0);
 * ```
 */
export async function countRejects(
  path: string,
  sourceId: string,
): Promise<number> {
  let text: string;
  try {
    text = decoder.decode(await Deno.readFile(`${path}.log`));
  } catch {
    return 0;
  }
  let count = 0;
  for (const line of text.split("\n")) {
    try {
      if ((JSON.parse(line) as LogEntry).source_id === sourceId) count++;
    } catch { /* not a whole line */ }
  }
  return count;
}

function key(sourceId: string, startOffset: number): string {
  return `${startOffset} ${sourceId}`;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await file.write(bytes.subarray(at));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(a.length + b.length);
  bytes.set(a);
  bytes.set(b, a.length);
  return bytes;
}
