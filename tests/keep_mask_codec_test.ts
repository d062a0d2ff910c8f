/**
 * The keep mask: fields a load skips are left out of the COPY rows by both
 * frame cores, the WebAssembly module and its TypeScript twin, the same
 * way for any input and any chunk split; and what is left is what
 * csv-parse (or JSON.parse) reads with those fields removed.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import type { ColumnEntry } from "../src/codec/column_entry.ts";
import { type CopyFormat, decodeCopyRow } from "../src/codec/copy_row.ts";
import {
  CsvCopyCodec,
  type CsvCopyCodecOptions,
} from "../src/codec/csv/csv_codec.ts";
import { WasmCsvCopyCodec } from "../src/codec/csv/wasm_csv_codec.ts";
import {
  NdjsonCopyCodec,
  type NdjsonCopyCodecOptions,
} from "../src/codec/ndjson/ndjson_codec.ts";
import { WasmNdjsonCopyCodec } from "../src/codec/ndjson/wasm_ndjson_codec.ts";
import type { RowBlock } from "../src/codec/row_block.ts";
import { InputSyntaxError, UsageError } from "../src/errors.ts";
import { split } from "./_chunks.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const FORMATS: CopyFormat[] = ["text", "csv"];

interface Codec {
  push(chunk: Uint8Array): RowBlock;
  finish(): RowBlock;
  rowsBeforeError(): RowBlock;
}

/** Everything a codec made of some chunks, joined; the error as data. */
interface Run {
  data: number[];
  rowEnds: number[];
  lines: number[];
  endOffsets: number[];
  laneKeys: string[] | undefined;
  rejects: unknown[];
  error?: unknown[];
}

function run(codec: () => Codec, chunks: Uint8Array[]): Run | string {
  let made: Codec;
  try {
    made = codec();
  } catch (error) {
    return String(error); // options it refuses
  }
  const blocks: RowBlock[] = [];
  let error: Run["error"];
  try {
    for (const chunk of chunks) blocks.push(made.push(chunk));
    blocks.push(made.finish());
  } catch (thrown) {
    if (thrown instanceof UsageError) return String(thrown); // a bad header
    if (!(thrown instanceof InputSyntaxError)) throw thrown;
    error = [thrown.message, thrown.line, thrown.column, thrown.offset];
    blocks.push(made.rowsBeforeError());
  }
  const data: number[] = [];
  const rowEnds: number[] = [];
  for (const block of blocks) {
    rowEnds.push(...[...block.rowEnds].map((end) => end + data.length));
    data.push(...block.data);
  }
  return {
    data,
    rowEnds,
    lines: blocks.flatMap((block) => [...block.lines]),
    endOffsets: blocks.flatMap((block) => [...block.endOffsets]),
    // Blocks before the header is read have no lane keys yet.
    laneKeys: blocks.some((block) => block.laneKeys !== undefined)
      ? blocks.flatMap((block) => [...block.laneKeys ?? []])
      : undefined,
    rejects: blocks.flatMap((block) => [...block.rejects ?? []]),
    error,
  };
}

/** COPY rows back to values. */
function rowsOf(output: Run, format: CopyFormat): (string | null)[][] {
  const data = Uint8Array.from(output.data);
  return output.rowEnds.map((end, i) =>
    decodeCopyRow(
      decoder.decode(data.subarray(output.rowEnds[i - 1] ?? 0, end - 1)),
      format,
    )
  );
}

const fieldText = fc.array(
  fc.oneof(
    fc.constantFrom('"', ",", ";", "\t", "\\", "\r", "\n", "\r\n", "é", "🚀"),
    fc.string({ maxLength: 12 }),
  ),
  { maxLength: 5 },
).map((parts) => parts.join("").replaceAll("\u0000", ""));

/** A table of 2 to 5 columns, and which of them a load keeps (one at least). */
const masked = fc.integer({ min: 2, max: 5 }).chain((width) =>
  fc.record({
    width: fc.constant(width),
    rows: fc.array(
      fc.array(fc.option(fieldText, { nil: null, freq: 4 }), {
        minLength: width,
        maxLength: width,
      }),
      { maxLength: 10 },
    ),
    keep: fc.array(fc.boolean(), { minLength: width, maxLength: width })
      .filter((keep) => keep.some((kept) => kept)),
    delimiter: fc.constantFrom(",", "\t", ";"),
    quote: fc.constantFrom('"', "'"),
    backslash: fc.boolean(),
    recordDelimiter: fc.constantFrom("\n", "\r\n", "\r"),
    header: fc.boolean(),
    byName: fc.boolean(),
    lane: fc.boolean(),
    cuts: fc.array(fc.nat(), { maxLength: 8 }),
  })
);

Deno.test("With fields skipped, the WASM and TS codecs write the same rows for any chunk split, and they are csv-parse's records without those fields", () => {
  fc.assert(
    fc.property(masked, (m) => {
      const laneField = m.keep.indexOf(true);
      // A NULL lane key is bad input (tested apart).
      const t = m.lane
        ? {
          ...m,
          rows: m.rows.map((row) =>
            row.map((value, k) => k === laneField ? value ?? "" : value)
          ),
        }
        : m;
      const names = Array.from({ length: t.width }, (_, k) => `c${k}`);
      const escape = t.backslash ? "\\" : t.quote;
      const text = stringify(t.header ? [names, ...t.rows] : t.rows, {
        delimiter: t.delimiter,
        quote: t.quote,
        escape,
        record_delimiter: t.recordDelimiter,
        quoted_match: /^$|[\r\n]/,
      });
      const parsed = text === "" ? [] : parse(text, {
        delimiter: t.delimiter,
        quote: t.quote,
        escape,
        record_delimiter: t.recordDelimiter,
        cast: (value: string, context: { quoting: boolean }) =>
          !context.quoting && value === "" ? null : value,
      }).slice(t.header ? 1 : 0);
      assert.deepEqual(parsed, t.rows);
      // By name (a header), or by position: null skips a field.
      const columns: ColumnEntry[] = t.header && t.byName
        ? names.filter((_, k) => !t.keep[k]).map((field) => ({
          field,
          column: null,
        }))
        : names.map((name, k) => t.keep[k] ? name : null);
      const bytes = encoder.encode(text);
      const chunks = split(bytes, t.cuts);
      for (const copyFormat of FORMATS) {
        const options: CsvCopyCodecOptions = {
          source: "mask.csv",
          delimiter: t.delimiter,
          quote: t.quote,
          escape,
          header: t.header,
          columns: columns.length === 0 ? undefined : columns,
          laneColumn: t.lane ? names[laneField] : undefined,
          copyFormat,
        };
        const expected = run(() => new CsvCopyCodec(options), [bytes]);
        assert.deepEqual(
          run(() => new WasmCsvCopyCodec(options), chunks),
          expected,
        );
        assert.deepEqual(
          run(() => new CsvCopyCodec(options), chunks),
          expected,
        );
        assert.ok(typeof expected !== "string", expected as string);
        assert.equal(expected.error, undefined);
        const kept = t.rows
          // A record of one NULL field is a blank line, in any column.
          .filter((row) => !(t.width === 1 && row[0] === null))
          .map((row) => row.filter((_, k) => t.keep[k]));
        assert.deepEqual(rowsOf(expected, copyFormat), kept);
        // Lines and offsets are the records', kept fields or not.
        const whole = run(() =>
          new CsvCopyCodec({
            ...options,
            columns: undefined,
            laneColumn: undefined,
            fieldCount: t.width,
          }), [bytes]) as Run;
        assert.deepEqual(expected.lines, whole.lines);
        assert.deepEqual(expected.endOffsets, whole.endOffsets);
        if (t.lane) {
          assert.deepEqual(
            expected.laneKeys,
            t.rows.map((row) => row[laneField]),
          );
        }
      }
    }),
    { numRuns: 400 },
  );
});

// Bytes of any kind: valid and invalid UTF-8, quotes, escapes, line breaks.
const anyBytes = fc.array(
  fc.constantFrom(
    ...["a", "é", ",", '"', "\\", "\n", "\r", "\t", "\r\n"].map((s) =>
      encoder.encode(s)
    ),
    Uint8Array.of(0xff),
    Uint8Array.of(0xc3),
    Uint8Array.of(0x00),
  ),
  { maxLength: 40 },
).map((parts) => Uint8Array.from(parts.flatMap((part) => [...part])));

Deno.test("With fields skipped, the WASM and TS codecs agree on any bytes, malformed ones included, in both modes", () => {
  fc.assert(
    fc.property(
      anyBytes,
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.record({
        header: fc.boolean(),
        keep: fc.constantFrom([1, 0, 1], [0, 0, 1], [1, 0, 0], [0, 1, 0]),
        copyFormat: fc.constantFrom<CopyFormat>("text", "csv"),
        nullString: fc.constantFrom(undefined, "a"),
        malformed: fc.constantFrom<"stop" | "reject">("stop", "reject"),
        lane: fc.boolean(),
      }),
      (bytes, cuts, o) => {
        const names = ["a", "b", "c"];
        const options: CsvCopyCodecOptions = {
          source: "any.csv",
          header: o.header,
          columns: names.map((name, k) => o.keep[k] ? name : null),
          copyFormat: o.copyFormat,
          nullString: o.nullString,
          malformed: o.malformed,
          laneColumn: o.lane ? names[o.keep.indexOf(1)] : undefined,
        };
        const chunks = split(bytes, cuts);
        assert.deepEqual(
          run(() => new WasmCsvCopyCodec(options), chunks),
          run(() => new CsvCopyCodec(options), chunks),
        );
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("A field whose column the table lacks is refused with the others, or skipped with extraColumns ignore", () => {
  const bytes = encoder.encode("id,nickname,age,note\n1,ada,36,x\n");
  const into = { name: "public.people", columns: ["id", "note"] };
  for (const make of [CsvCopyCodec, WasmCsvCopyCodec]) {
    assert.throws(
      () => new make({ source: "people.csv", into }).push(bytes),
      (error) =>
        error instanceof UsageError && error.message ===
          'Cannot load people.csv into public.people: the table has no column "nickname", "age" (add them, map them with --columns, or pass --extra-columns ignore)',
    );
    const codec = new make({ into, extraColumns: "ignore" });
    assert.equal(decoder.decode(codec.push(bytes).data), "1\tx\n");
    assert.deepEqual(codec.fields, [
      "id",
      { field: "nickname", column: null },
      { field: "age", column: null },
      "note",
    ]);
  }
});

type NdjsonCodec = NdjsonCopyCodec | WasmNdjsonCopyCodec;
const NDJSON: ((options: NdjsonCopyCodecOptions) => NdjsonCodec)[] = [
  (options) => new NdjsonCopyCodec(options),
  (options) => new WasmNdjsonCopyCodec(options),
];

const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom("\u0000", "a\tb\\c\nd", "\\N", ""),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 3 })), {
    maxLength: 3,
  }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);

/** What a value loads as: a string's text, null, else its JSON text. */
function loadedText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

Deno.test("With keys skipped or ignored, the WASM and TS NDJSON codecs write the same rows for any chunk split, and they are JSON.parse's values of the kept keys", () => {
  const keys = ["k0", "k1", "k2", "k3"];
  fc.assert(
    fc.property(
      fc.array(
        fc.constantFrom<"keep" | "skip" | "rename">("keep", "skip", "rename"),
        {
          minLength: 4,
          maxLength: 4,
        },
      ).filter((how) => how.some((entry) => entry !== "skip")),
      fc.array(
        fc.dictionary(
          fc.constantFrom(...keys, "extra", "other"),
          jsonValue,
          { maxKeys: 6 },
        ),
        { maxLength: 8 },
      ),
      fc.constantFrom<CopyFormat>("text", "csv"),
      fc.array(fc.nat(), { maxLength: 6 }),
      (how, records, copyFormat, cuts) => {
        const columns: ColumnEntry[] = keys.map((key, k) =>
          how[k] === "keep"
            ? key
            : { field: key, column: how[k] === "skip" ? null : `col${k}` }
        );
        const text = records.map((record) => `${JSON.stringify(record)}\n`)
          .join("");
        const bytes = encoder.encode(text);
        const options: NdjsonCopyCodecOptions = {
          columns,
          extraKeys: "ignore",
          copyFormat,
        };
        const outcomes = NDJSON.flatMap((make) =>
          [[bytes], split(bytes, cuts)].map((chunks) =>
            run(() => make(options), chunks)
          )
        );
        for (const outcome of outcomes) assert.deepEqual(outcome, outcomes[0]);
        const result = outcomes[0] as Run;
        // A kept string value holding NUL is bad input; a skipped one is not.
        const bad = records.findIndex((record) =>
          keys.some((key, k) => how[k] !== "skip" && record[key] === "\u0000")
        );
        if (bad >= 0) {
          assert.match(String((result.error ?? [])[0]), /\\u0000/);
          assert.equal(result.rowEnds.length, bad);
          return;
        }
        assert.equal(result.error, undefined);
        assert.deepEqual(
          rowsOf(result, copyFormat),
          records.map((record) =>
            keys.filter((_, k) => how[k] !== "skip").map((key) =>
              loadedText(record[key])
            )
          ),
        );
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("Without extraKeys ignore a key that is no field is an error at its line and column, and a skipped key is not", () => {
  const bytes = encoder.encode('{"a": 1, "b": 2}\n{"a": 3, "c": 4}\n');
  const columns: ColumnEntry[] = ["a", { field: "b", column: null }];
  for (const make of NDJSON) {
    const result = run(() => make({ source: "e.ndjson", columns }), [bytes]);
    assert.ok(typeof result !== "string");
    assert.deepEqual(rowsOf(result, "text"), [["1"]]);
    assert.deepEqual(result.error, [
      'e.ndjson:2:10: Cannot parse record: key "c" is not a column (columns: a)',
      2,
      10,
      26,
    ]);
    const duplicate = run(
      () => make({ columns }),
      [encoder.encode('{"a": 1, "b": 2, "b": 3}\n')],
    ) as Run;
    assert.match(String(duplicate.error?.[0]), /key "b" appears twice/);
  }
});
