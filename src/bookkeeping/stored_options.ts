/**
 * What a source's bookkeeping keeps of a run's options: those that
 * change what the source's bytes mean.
 *
 * @module
 */

import type { Encoding } from "../codec/encoding.ts";
import type { IngestOptions } from "../ingest_options.ts";
import type { InputFormat } from "../source/input_format.ts";
import type { SourceOptions } from "./source_state.ts";

/**
 * The options stored with the source: those that change what its bytes
 * mean (a resume refuses others, see `optionDifferences`).
 *
 * @param request The run's options.
 * @param format The input's format.
 * @param encoding The input's encoding.
 * @param targetName The target table, as stored.
 * @returns The options to store (the columns are added once known).
 *
 * @example Defaults stored as such
 * ```ts
 * import { storedOptions } from "./stored_options.ts";
 * import { resolveEncoding } from "../codec/encoding.ts";
 * import assert from "node:assert/strict";
 *
 * const request = { source: "rows.csv", table: "t" };
 * const stored = storedOptions(request, "csv", resolveEncoding("utf-8"), "public.t");
 * assert.equal(stored.delimiter, ",");
 * assert.equal(stored.header, true);
 * assert.equal(stored.lane, null);
 * ```
 */
export function storedOptions(
  request: IngestOptions,
  format: InputFormat,
  encoding: Encoding,
  targetName: string,
): Omit<SourceOptions, "columns"> {
  return {
    target: targetName,
    format,
    delimiter: request.delimiter ?? ",",
    quote: request.quote ?? '"',
    // Stored only when it is not the quote: the default reads as before.
    escape: request.escape !== undefined &&
        request.escape !== (request.quote ?? '"')
      ? request.escape
      : undefined,
    nullString: request.nullString ?? null,
    header: format === "csv" && (request.header ?? true),
    lane: request.lane ?? null,
    encoding: encoding.name,
    // Stored only when not an error (the default reads as before), and
    // extraKeys only for NDJSON, whose records have keys.
    extraColumns: request.extraColumns === "ignore" ? "ignore" : undefined,
    extraKeys: format === "ndjson" && request.extraKeys === "ignore"
      ? "ignore"
      : undefined,
    onConflict: request.onConflict,
    key: request.key,
    replace: request.replace || undefined,
  };
}
