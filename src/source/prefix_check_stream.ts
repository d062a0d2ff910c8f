/**
 * The other writers' committed prefixes, checked before a parallel load
 * resumes. A resume reads from the smallest committed position and
 * `PrefixFingerprint` verifies that prefix; every writer that stopped
 * further on committed a longer prefix, whose bytes must be unchanged too
 * before any record after the smallest position is loaded again.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { ExitCode, UsageError } from "../errors.ts";

/** A committed prefix to check: its length and its SHA-256. */
export interface PrefixCheck {
  /** Its length in bytes. */
  byteOffset: number;
  /** Hex SHA-256 of its bytes. */
  fingerprint: string;
  /** The writer that committed it, for the refusal. */
  writer?: number;
}

/** Options for {@linkcode PrefixCheckStream}. */
export interface PrefixCheckStreamOptions {
  /** The prefixes to check (any order; those of 0 bytes are ignored). */
  prefixes: readonly PrefixCheck[];
  /**
   * Bytes from this offset on are held back until the last prefix has
   * checked out, so nothing past it is decoded (or loaded) from a changed
   * source. Default: nothing is held back.
   */
  holdFrom?: number;
  /** The source id, for the refusal. */
  sourceId?: string;
}

/**
 * A `TransformStream` that hashes the bytes passing through from the
 * source's start and errors (a {@linkcode UsageError}, exit code 4) when a
 * prefix's hash differs, or when the source ends before it. From
 * `holdFrom` on, it holds the bytes back until every prefix has checked
 * out (for a stream that cannot be read twice; memory: the bytes between
 * `holdFrom` and the longest prefix).
 *
 * @example Usage
 * ```ts
 * import { PrefixCheckStream } from "./prefix_check_stream.ts";
 * import { createHash } from "node:crypto";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("a\nb\nc\n");
 * const fingerprint = createHash("sha256").update(bytes.subarray(0, 4)).digest("hex");
 * const check = new PrefixCheckStream({ prefixes: [{ byteOffset: 4, fingerprint }], holdFrom: 2 });
 * const out = await Array.fromAsync(ReadableStream.from([bytes]).pipeThrough(check));
 * assert.equal(out.reduce((n, chunk) => n + chunk.length, 0), 6);
 *
 * const changed = new PrefixCheckStream({ prefixes: [{ byteOffset: 4, fingerprint: "0" }] });
 * await assert.rejects(
 *   Array.fromAsync(ReadableStream.from([bytes]).pipeThrough(changed)),
 *   /its first 4 bytes \(the prefix already loaded\) have changed/,
 * );
 * ```
 */
export class PrefixCheckStream extends TransformStream<Uint8Array, Uint8Array> {
  /** @param options The prefixes, and where to start holding bytes back. */
  constructor(options: PrefixCheckStreamOptions) {
    const prefixes = options.prefixes
      .filter((prefix) => prefix.byteOffset > 0)
      .toSorted((a, b) => a.byteOffset - b.byteOffset);
    const holdFrom = options.holdFrom ?? Infinity;
    const hash = createHash("sha256");
    let hashed = 0;
    let next = 0;
    let seen = 0;
    let held: Uint8Array[] = [];
    const refuse = (what: string, prefix: PrefixCheck) =>
      new UsageError(
        `Cannot resume source "${options.sourceId ?? "?"}": ${what}${
          prefix.writer === undefined
            ? ""
            : ` (committed by writer ${prefix.writer})`
        } (pass --restart to load it again from the start)`,
        ExitCode.Refused,
      );
    super({
      transform(chunk, controller) {
        let at = 0;
        while (next < prefixes.length && at < chunk.length) {
          const prefix = prefixes[next];
          const take = Math.min(chunk.length - at, prefix.byteOffset - hashed);
          hash.update(chunk.subarray(at, at + take));
          hashed += take;
          at += take;
          if (hashed === prefix.byteOffset) {
            if (hash.copy().digest("hex") !== prefix.fingerprint) {
              throw refuse(
                `its first ${prefix.byteOffset} bytes (the prefix already loaded) have changed since they were loaded`,
                prefix,
              );
            }
            next++;
          }
        }
        const start = seen;
        seen += chunk.length;
        if (next === prefixes.length) {
          for (const piece of held) controller.enqueue(piece);
          held = [];
          controller.enqueue(chunk);
          return;
        }
        const pass = Math.max(0, Math.min(chunk.length, holdFrom - start));
        if (pass > 0) controller.enqueue(chunk.subarray(0, pass));
        if (pass < chunk.length) held.push(chunk.subarray(pass));
      },
      flush(controller) {
        if (next < prefixes.length) {
          const prefix = prefixes.at(-1)!;
          throw refuse(
            `it is now ${seen} bytes long, shorter than the ${prefix.byteOffset} bytes already loaded from it`,
            prefix,
          );
        }
        for (const piece of held) controller.enqueue(piece);
      },
    });
  }
}

/**
 * Reads `bytes` as far as the longest prefix, checking each on the way
 * (see {@linkcode PrefixCheckStream}), then cancels the rest: for a file,
 * which the load then reads again from its start.
 *
 * @param bytes The source from its start.
 * @param prefixes The prefixes to check.
 * @param sourceId The source id, for the refusal.
 * @returns When every prefix checked out; rejects otherwise.
 *
 * @example Usage
 * ```ts
 * import { checkPrefixes } from "./prefix_check_stream.ts";
 * import { createHash } from "node:crypto";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("a\nb\n");
 * const fingerprint = createHash("sha256").update(bytes.subarray(0, 2)).digest("hex");
 * await checkPrefixes(ReadableStream.from([bytes]), [{ byteOffset: 2, fingerprint }]);
 * await assert.rejects(
 *   checkPrefixes(ReadableStream.from([bytes]), [{ byteOffset: 9, fingerprint }]),
 *   /it is now 4 bytes long, shorter than the 9 bytes already loaded/,
 * );
 * ```
 */
export async function checkPrefixes(
  bytes: ReadableStream<Uint8Array>,
  prefixes: readonly PrefixCheck[],
  sourceId?: string,
): Promise<void> {
  const end = Math.max(0, ...prefixes.map((prefix) => prefix.byteOffset));
  const reader = bytes
    .pipeThrough(new PrefixCheckStream({ prefixes, sourceId }))
    .getReader();
  let read = 0;
  try {
    while (read < end) {
      const { value, done } = await reader.read();
      if (done) return;
      read += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
