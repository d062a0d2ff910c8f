/**
 * The CSV codecs' options, and the dialect they describe as the frame
 * core takes it: the delimiter, quote and escape as bytes (checked), the
 * COPY format, the null string as the core writes it, the charset.
 *
 * @module
 */

import {
  CHARSET_EUC,
  CHARSET_EUC_JP,
  CHARSET_SINGLE_BYTE,
  CHARSET_UTF8,
  CR,
  LF,
} from "./_csv_constants.ts";
import type { CsvDialect } from "./_csv_core.ts";
import { type ColumnEntry, fieldCountOf } from "../column_entry.ts";
import type { ExistingTable, ExtraPolicy } from "../column_map.ts";
import { type CopyFormat, encodeCopyRow } from "../copy_row.ts";
import { type Charset, resolveEncoding } from "../encoding.ts";

/** Options for `CsvCopyCodec` and `WasmCsvCopyCodec`. */
export interface CsvCopyCodecOptions {
  /** The source's name in error messages. Default `<input>`. */
  source?: string;
  /** Field delimiter, one ASCII character. Default `,`. */
  delimiter?: string;
  /** Quote character, one ASCII character. Default `"`. */
  quote?: string;
  /**
   * Inside a quoted field, this character before the quote (or before
   * itself) makes it data. Default: the quote, so a quote is doubled.
   */
  escape?: string;
  /** An unquoted field equal to this is NULL. Default: the unquoted empty field. */
  nullString?: string;
  /** The COPY format to produce. Default `text`. */
  copyFormat?: CopyFormat;
  /** The first record names the columns and is not a row. Default `true`. */
  header?: boolean;
  /** Fields every record must have. Default: as many as the first record. */
  fieldCount?: number;
  /** Source byte offset of the first byte pushed. Default 0. */
  startOffset?: number;
  /** Source line of the first byte pushed. Default 1. */
  startLine?: number;
  /**
   * Which column each field loads into (see `ColumnEntry`): by position,
   * one entry per field in file order (a name replaces the header's,
   * `null` skips the field); or by name, `{ field, column }` entries only
   * (the fields they leave out load into the columns their header names).
   * Skipped fields are left out of the rows. Default: the header's names.
   */
  columns?: readonly ColumnEntry[];
  /**
   * The target table as the load found it: a field whose column it lacks
   * is refused once the header is read (before any row), naming them all;
   * with `extraColumns: "ignore"`, such fields are skipped.
   */
  into?: ExistingTable;
  /** What a field whose column `into` lacks does. Default `error`. */
  extraColumns?: ExtraPolicy;
  /**
   * The column whose text is each row's lane key (by name, from `columns`
   * or the header). A NULL lane key is malformed input.
   */
  laneColumn?: string;
  /**
   * What a malformed record does: `stop` the input (the codec throws
   * `InputSyntaxError`), or `reject` it: the codec skips it to
   * its end (the first line break after the error that is not inside a
   * quoted field; the rest of the input for a quote never closed) and goes
   * on, listing it in the block's `rejects`. A bad header stops the input
   * either way. Default `stop`.
   */
  malformed?: "stop" | "reject";
  /**
   * The input's encoding (see `resolveEncoding`): UTF-8, a single-byte
   * ISO-8859, Windows or KOI8 encoding, or EUC-JP, EUC-KR or EUC-CN. Only
   * UTF-8 is validated (and has its byte order mark skipped); columns in
   * errors count characters in the encoding, and the header's names and
   * lane keys are decoded from it. The COPY rows keep the input's bytes.
   * Default `utf-8`.
   */
  encoding?: string;
}

/** The core's charset for each kind of encoding. */
const CHARSETS: Record<Charset, number> = {
  "utf-8": CHARSET_UTF8,
  "single-byte": CHARSET_SINGLE_BYTE,
  "euc-jp": CHARSET_EUC_JP,
  "euc": CHARSET_EUC,
};

/** A dialect, and how to decode text (names, lane keys) in its encoding. */
export interface ResolvedDialect {
  /** The dialect, its lane field not yet known (-1). */
  dialect: CsvDialect & { charset: number };
  /** Decodes bytes of the input's encoding. */
  decode: (bytes: Uint8Array) => string;
}

/**
 * The dialect the options describe, checked.
 *
 * @param options The codec's options.
 * @returns The dialect, with its lane field -1, and the encoding's decoder.
 * @throws {RangeError} If the delimiter, quote or escape is not one ASCII
 * character, or they clash, or one is a line break.
 *
 * @example Usage
 * ```ts
 * import { csvDialect } from "./_csv_dialect.ts";
 * import assert from "node:assert/strict";
 *
 * const { dialect } = csvDialect({ delimiter: ";", copyFormat: "csv", nullString: "NA" });
 * assert.equal(dialect.delimiter, 0x3b);
 * assert.equal(dialect.escape, 0x22);
 * assert.deepEqual(dialect.nullEncoded, new TextEncoder().encode("NA"));
 * assert.throws(() => csvDialect({ delimiter: '"' }), RangeError);
 * ```
 */
export function csvDialect(options: CsvCopyCodecOptions): ResolvedDialect {
  const delimiter = asciiByte(options.delimiter ?? ",", "delimiter");
  const quote = asciiByte(options.quote ?? '"', "quote");
  const escape = asciiByte(options.escape ?? options.quote ?? '"', "escape");
  if (delimiter === quote) {
    throw new RangeError(
      "Cannot use the same character as delimiter and quote",
    );
  }
  if (delimiter === escape) {
    throw new RangeError(
      "Cannot use the same character as delimiter and escape",
    );
  }
  if ([LF, CR].includes(delimiter)) {
    throw new RangeError("Cannot use a line break as the delimiter");
  }
  if ([LF, CR].includes(quote) || [LF, CR].includes(escape)) {
    throw new RangeError("Cannot use a line break as the quote or escape");
  }
  const csvOut = options.copyFormat === "csv";
  const encoding = resolveEncoding(options.encoding ?? "utf-8");
  let nullEncoded: Uint8Array | undefined;
  if (options.nullString !== undefined) {
    // The null string as the core writes it, opening quote excluded.
    const row = encodeCopyRow(
      [options.nullString],
      options.copyFormat ?? "text",
    );
    const bytes = encoding.encode(row.slice(0, -1));
    nullEncoded = csvOut ? bytes.subarray(1, -1) : bytes;
  }
  return {
    dialect: {
      delimiter,
      quote,
      escape,
      csvOut,
      nullEncoded,
      nullCodePoints: [...options.nullString ?? ""].length,
      fieldCount: options.fieldCount ?? fieldCountOf(options.columns) ?? 0,
      laneField: -1,
      charset: CHARSETS[encoding.charset],
      rejects: options.malformed === "reject",
    },
    decode: encoding.decode,
  };
}

function asciiByte(value: string, what: string): number {
  if (value.length !== 1 || value.charCodeAt(0) > 0x7f) {
    throw new RangeError(
      `Cannot use "${value}" as the ${what}: it must be one ASCII character`,
    );
  }
  return value.charCodeAt(0);
}
