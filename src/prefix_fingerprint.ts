/**
 * The fingerprint of a source's committed prefix: a SHA-256 of its bytes
 * `[0, offset)`, carried incrementally as the load runs, with the number of
 * line breaks in them (so line numbers stay right after a resume).
 *
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { ExitCode, UsageError } from "./errors.ts";

/** A prefix of the source: its hash and its line breaks. */
export interface PrefixState {
  /** Hex SHA-256 of the prefix's bytes. */
  fingerprint: string;
  /** Line breaks (LF, CRLF or a lone CR) in the prefix. */
  lines: number;
}

/** A prefix an earlier run committed, which this run must find unchanged. */
export interface CommittedPrefix extends PrefixState {
  /** Its length in bytes. */
  byteOffset: number;
}

/** Options for {@linkcode PrefixFingerprint}. */
export interface PrefixFingerprintOptions {
  /** The prefix an earlier run committed: verified, then not passed on. */
  committed?: CommittedPrefix;
  /** The source id, for the refusal message. */
  sourceId?: string;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Hashes a source as it streams. Put {@linkcode PrefixFingerprint.tap} right
 * after the source; call {@linkcode PrefixFingerprint.at} with increasing
 * offsets (each batch's end) to get the fingerprint of the bytes before it.
 * Chunks are held only between the last offset asked for and what the
 * source has read, so memory stays bounded by the pipeline's queues.
 *
 * With `committed`, the tap re-reads that prefix without passing it on,
 * and errors (exit code 4) when the source no longer starts with it.
 *
 * @example Usage
 * ```ts
 * import { PrefixFingerprint } from "./prefix_fingerprint.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("a\nb\nc\n");
 * const first = new PrefixFingerprint();
 * await Array.fromAsync(ReadableStream.from([bytes]).pipeThrough(first.tap));
 * const prefix = first.at(4);
 * assert.equal(prefix.lines, 2);
 *
 * // A later run skips the verified prefix and passes on the rest.
 * const again = new PrefixFingerprint({ committed: { byteOffset: 4, ...prefix } });
 * const rest = await Array.fromAsync(ReadableStream.from([bytes]).pipeThrough(again.tap));
 * assert.equal(new TextDecoder().decode(rest[0]), "c\n");
 * ```
 */
export class PrefixFingerprint {
  /** Passes the source's bytes through (after the committed prefix). */
  readonly tap: TransformStream<Uint8Array, Uint8Array>;
  readonly #hash: Hash = createHash("sha256");
  #hashed = 0;
  #lines = 0;
  #afterCR = false;
  #pending: Uint8Array[] = [];

  /** @param options The committed prefix to verify and skip, if any. */
  constructor(options: PrefixFingerprintOptions = {}) {
    const committed = options.committed;
    const skipTo = committed?.byteOffset ?? 0;
    const refuse = (what: string) =>
      new UsageError(
        `Cannot resume source "${
          options.sourceId ?? "?"
        }": ${what} (pass --restart to load it again from the start)`,
        ExitCode.Refused,
      );
    this.tap = new TransformStream({
      transform: (chunk, controller) => {
        let rest = chunk;
        if (this.#hashed < skipTo) {
          const take = Math.min(chunk.length, skipTo - this.#hashed);
          this.#consume(chunk.subarray(0, take));
          rest = chunk.subarray(take);
          if (this.#hashed === skipTo && committed !== undefined) {
            const now = this.#hash.copy().digest("hex");
            if (now !== committed.fingerprint) {
              throw refuse(
                `its first ${skipTo} bytes (the prefix already loaded) have changed since they were loaded`,
              );
            }
          }
        }
        if (rest.length > 0) {
          this.#pending.push(rest);
          controller.enqueue(rest);
        }
      },
      flush: () => {
        if (this.#hashed < skipTo) {
          throw refuse(
            `it is now ${this.#hashed} bytes long, shorter than the ${skipTo} bytes already loaded from it`,
          );
        }
      },
    });
  }

  /**
   * The fingerprint of the bytes before `offset`. Offsets must not
   * decrease from call to call, and the tap must have passed them.
   *
   * @param offset A source byte offset.
   * @returns The prefix's hash and line breaks.
   */
  at(offset: number): PrefixState {
    while (this.#hashed < offset) {
      const chunk = this.#pending[0];
      if (chunk === undefined) {
        throw new RangeError(
          `Cannot fingerprint up to byte ${offset}: only ${this.#hashed} bytes have been read`,
        );
      }
      const take = Math.min(chunk.length, offset - this.#hashed);
      this.#consume(chunk.subarray(0, take));
      if (take === chunk.length) this.#pending.shift();
      else this.#pending[0] = chunk.subarray(take);
    }
    return { fingerprint: this.#hash.copy().digest("hex"), lines: this.#lines };
  }

  #consume(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#hash.update(bytes);
    this.#hashed += bytes.length;
    // A line break is a CR, or an LF not right after a CR.
    let lines = 0;
    for (
      let at = bytes.indexOf(CR);
      at !== -1;
      at = bytes.indexOf(CR, at + 1)
    ) {
      lines++;
    }
    for (
      let at = bytes.indexOf(LF);
      at !== -1;
      at = bytes.indexOf(LF, at + 1)
    ) {
      const before = at === 0 ? this.#afterCR : bytes[at - 1] === CR;
      if (!before) lines++;
    }
    this.#lines += lines;
    this.#afterCR = bytes[bytes.length - 1] === CR;
  }
}
