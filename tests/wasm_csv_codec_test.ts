import assert from "node:assert/strict";
import fc from "fast-check";
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { ROW_CAPACITY } from "../src/codec/csv/_csv_constants.ts";
import { type CopyFormat, decodeCopyRow } from "../src/codec/copy_row.ts";
import {
  CsvCopyCodec,
  type CsvCopyCodecOptions,
} from "../src/codec/csv/csv_codec.ts";
import { CsvDecodeStream } from "../src/codec/decode_stream.ts";
import { InputSyntaxError } from "../src/errors.ts";
import type { MalformedRecord, RowBlock } from "../src/codec/row_block.ts";
import { WasmCsvCopyCodec } from "../src/codec/csv/wasm_csv_codec.ts";
import { runCli } from "./_helpers.ts";
import { split } from "./_chunks.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type Codec = CsvCopyCodec | WasmCsvCopyCodec;
const CODECS: Record<"wasm" | "ts", (options: CsvCopyCodecOptions) => Codec> = {
  wasm: (options) => new WasmCsvCopyCodec(options),
  ts: (options) => new CsvCopyCodec(options),
};
const FORMATS: CopyFormat[] = ["text", "csv"];

/** Everything a codec made of some chunks: rows, metadata, the error. */
interface Run {
  data: Uint8Array;
  rowEnds: number[];
  lines: number[];
  endOffsets: number[];
  laneKeys: string[] | undefined;
  header: string[] | undefined;
  rejects: MalformedRecord[];
  error?: { message: string; line: number; column: number; offset: number };
}

function run(codec: Codec, chunks: Uint8Array[]): Run {
  const blocks: RowBlock[] = [];
  let error: Run["error"];
  try {
    for (const chunk of chunks) blocks.push(codec.push(chunk));
    blocks.push(codec.finish());
  } catch (thrown) {
    if (!(thrown instanceof InputSyntaxError)) throw thrown;
    const { message, line, column, offset } = thrown;
    error = { message, line, column, offset };
    blocks.push(codec.rowsBeforeError());
  }
  const data = new Uint8Array(blocks.reduce((n, b) => n + b.data.length, 0));
  const rowEnds: number[] = [];
  let at = 0;
  for (const block of blocks) {
    data.set(block.data, at);
    rowEnds.push(...[...block.rowEnds].map((end) => end + at));
    at += block.data.length;
  }
  return {
    data,
    rowEnds,
    lines: blocks.flatMap((b) => [...b.lines]),
    endOffsets: blocks.flatMap((b) => [...b.endOffsets]),
    laneKeys: blocks[0].laneKeys && blocks.flatMap((b) => [...b.laneKeys!]),
    header: codec.header,
    rejects: blocks.flatMap((b) => [...b.rejects ?? []]),
    error,
  };
}

/** COPY rows back to records. */
function records(output: Run, format: CopyFormat): (string | null)[][] {
  return output.rowEnds.map((end, i) =>
    decodeCopyRow(
      decoder.decode(output.data.subarray(output.rowEnds[i - 1] ?? 0, end - 1)),
      format,
    )
  );
}

// Field text: any Unicode (astral, combining), and every character the
// CSV and COPY formats treat specially, often.
const SPECIALS = [
  '"',
  "'",
  ",",
  ";",
  "\t",
  "\\",
  "\r",
  "\n",
  "\r\n",
  "\\.",
  "\\N",
  "e\u0301",
  "🚀",
  "👍🏽",
  "中文",
  " ",
];
const fieldText = fc.array(
  fc.oneof(
    fc.constantFrom(...SPECIALS),
    fc.string({ unit: "binary", maxLength: 4 }),
    fc.string({ unit: "grapheme-composite", maxLength: 3 }),
    fc.string({ maxLength: 24 }),
  ),
  { maxLength: 6 },
  // PostgreSQL text holds no NUL: a field with one is bad input (tested
  // apart).
).map((parts) =>
  parts.join("").replaceAll("\ufeff", "").replaceAll("\u0000", "")
);

interface Dialect {
  delimiter: string;
  quote: string;
  backslashEscape: boolean;
  recordDelimiter: string;
}

const dialect: fc.Arbitrary<Dialect> = fc.record({
  delimiter: fc.constantFrom(",", "\t", ";", "|"),
  quote: fc.constantFrom('"', "'"),
  backslashEscape: fc.boolean(),
  recordDelimiter: fc.constantFrom("\n", "\r\n", "\r"),
});

const table = fc.integer({ min: 1, max: 4 }).chain((width) =>
  fc.array(
    fc.array(fc.option(fieldText, { nil: null, freq: 4 }), {
      minLength: width,
      maxLength: width,
    }),
    { maxLength: 12 },
  ).map((rows) =>
    // A record of one NULL field is a blank line: not a record in CSV.
    width === 1 ? rows.filter((row) => row[0] !== null) : rows
  ).map((rows) => ({ width, rows }))
);

interface Written {
  bytes: Uint8Array;
  options: CsvCopyCodecOptions;
  parseOptions: Record<string, unknown>;
}

/** Writes the rows with csv-stringify: NULL unquoted empty, "" quoted. */
function write(
  rows: (string | null)[][],
  width: number,
  d: Dialect,
): Written {
  const escape = d.backslashEscape ? "\\" : d.quote;
  const text = stringify(rows, {
    delimiter: d.delimiter,
    quote: d.quote,
    escape,
    record_delimiter: d.recordDelimiter,
    // Empty strings quoted (NULL is the unquoted empty field), and line
    // breaks always: csv-stringify leaves a lone CR bare when records end
    // in LF.
    quoted_match: /^$|[\r\n]/,
  });
  return {
    bytes: encoder.encode(text),
    options: {
      source: "prop.csv",
      delimiter: d.delimiter,
      quote: d.quote,
      escape,
      header: false,
      fieldCount: width,
    },
    parseOptions: {
      delimiter: d.delimiter,
      quote: d.quote,
      escape,
      record_delimiter: d.recordDelimiter,
      relax_column_count: false,
      cast: (value: string, context: { quoting: boolean }) =>
        !context.quoting && value === "" ? null : value,
    },
  };
}

Deno.test("WasmCsvCopyCodec, CsvCopyCodec and csv-parse read the same records csv-stringify wrote", () => {
  fc.assert(
    fc.property(table, dialect, ({ width, rows }, d) => {
      const { bytes, options, parseOptions } = write(rows, width, d);
      const text = decoder.decode(bytes);
      assert.deepEqual(text === "" ? [] : parse(text, parseOptions), rows);
      for (const format of FORMATS) {
        const wasm = run(
          CODECS.wasm({ ...options, copyFormat: format }),
          [bytes],
        );
        const ts = run(CODECS.ts({ ...options, copyFormat: format }), [bytes]);
        assert.equal(wasm.error, undefined);
        assert.deepEqual(records(wasm, format), rows);
        assert.deepEqual(wasm, ts);
      }
    }),
    { numRuns: 400 },
  );
});

Deno.test("WasmCsvCopyCodec and CsvCopyCodec give byte-identical output for any chunk split", () => {
  fc.assert(
    fc.property(
      table,
      dialect,
      fc.array(fc.nat(), { maxLength: 8 }),
      fc.boolean(),
      ({ width, rows }, d, cuts, lane) => {
        const { bytes, options } = write(rows, width, d);
        const chunks = split(bytes, cuts);
        for (const format of FORMATS) {
          const whole = {
            ...options,
            copyFormat: format,
            columns: Array.from({ length: width }, (_, k) => `c${k}`),
            laneColumn: lane ? "c0" : undefined,
          };
          const expected = run(CODECS.ts(whole), [bytes]);
          assert.deepEqual(run(CODECS.wasm(whole), chunks), expected);
          assert.deepEqual(run(CODECS.ts(whole), chunks), expected);
          if (lane && expected.error === undefined) {
            assert.deepEqual(expected.laneKeys, rows.map((row) => row[0]));
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

// Bytes of any kind: valid and invalid UTF-8, quotes, escapes, line breaks.
const anyBytes = fc.array(
  fc.oneof(
    fc.constantFrom(
      ...["a", "é", "😀", ",", '"', "\\", "\n", "\r", "\t", "\r\n", "x\u0301"]
        .map((s) => encoder.encode(s)),
    ),
    fc.constantFrom(
      Uint8Array.of(0xff),
      Uint8Array.of(0x80),
      Uint8Array.of(0xc0, 0x80),
      Uint8Array.of(0xc3),
      Uint8Array.of(0xed, 0xa0, 0x80),
      Uint8Array.of(0xf0, 0x9f),
      Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
      Uint8Array.of(0x00),
    ),
    fc.uint8Array({ maxLength: 3 }),
  ),
  { maxLength: 40 },
).map((parts) => {
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
});

Deno.test("WasmCsvCopyCodec and CsvCopyCodec agree on any bytes, malformed ones included", () => {
  fc.assert(
    fc.property(
      anyBytes,
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.record({
        header: fc.boolean(),
        copyFormat: fc.constantFrom<CopyFormat>("text", "csv"),
        escape: fc.constantFrom(undefined, "\\"),
        nullString: fc.constantFrom(undefined, "\\N", "a"),
        lane: fc.boolean(),
      }),
      (bytes, cuts, o) => {
        const options: CsvCopyCodecOptions = {
          source: "any.csv",
          header: o.header,
          columns: o.header ? undefined : ["a", "b"],
          copyFormat: o.copyFormat,
          escape: o.escape,
          nullString: o.nullString,
          laneColumn: o.lane && !o.header ? "a" : undefined,
        };
        const chunks = split(bytes, cuts);
        const outcome = (make: (o: CsvCopyCodecOptions) => Codec) => {
          try {
            return run(make(options), chunks);
          } catch (error) {
            return String(error); // a bad header: a usage error
          }
        };
        assert.deepEqual(outcome(CODECS.wasm), outcome(CODECS.ts));
      },
    ),
    { numRuns: 3000 },
  );
});

/** The bytes with the ranges `[startOffset, endOffset)` of `rejects` cut out. */
function without(bytes: Uint8Array, rejects: MalformedRecord[]): Uint8Array {
  const kept: number[] = [];
  let at = 0;
  for (const reject of rejects) {
    kept.push(...bytes.subarray(at, reject.startOffset));
    at = reject.endOffset;
  }
  kept.push(...bytes.subarray(at));
  return Uint8Array.from(kept);
}

// Records good and bad, two fields each: quoted line breaks, every kind of
// malformed record, invalid UTF-8, and bytes of any kind between them.
const mixedRecords = fc.array(
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(fieldText, fieldText).map(([a, b]) =>
        encoder.encode(stringify([[a, b]], { quoted_match: /^$|[\r\n]/ }))
      ),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        ...[
          '1,ab"c\n', // a stray quote
          '"x"y,"z\nz"\n', // a character after a closing quote
          "5\n", // too few fields
          '6,7,"8\n9"\n', // too many fields, the extra one quoted
          ",x\n", // a NULL lane key
          '9,"open\n', // a quote that may never close
          '3,"q""\n\n"\r\n', // good, with a doubled quote and line breaks
          "\r", // a lone carriage return
          "\n", // a blank line
        ].map((text) => encoder.encode(text)),
        Uint8Array.of(0x31, 0x2c, 0xff, 0x0a), // invalid UTF-8
        Uint8Array.of(0x22, 0xc3, 0x28, 0x22, 0x2c, 0x32, 0x0a), // in quotes
        Uint8Array.of(0x31, 0x2c, 0x32, 0x0d, 0xe4, 0xb8, 0x0a), // after a CR
        Uint8Array.of(0x35, 0x0d, 0xff, 0x0a), // too few fields, then that
      ),
    },
    { weight: 1, arbitrary: anyBytes },
  ),
  { maxLength: 14 },
).map((parts) => Uint8Array.from(parts.flatMap((part) => [...part])));

const rejectOptions = fc.record({
  copyFormat: fc.constantFrom<CopyFormat>("text", "csv"),
  escape: fc.constantFrom(undefined, "\\"),
  nullString: fc.constantFrom(undefined, "\\N"),
  lane: fc.boolean(),
});

Deno.test("In reject mode WasmCsvCopyCodec and CsvCopyCodec give the same rows and the same rejects, for any bytes and any chunk split", () => {
  fc.assert(
    fc.property(
      fc.oneof(anyBytes, mixedRecords),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.boolean(),
      rejectOptions,
      (bytes, cuts, header, o) => {
        const options: CsvCopyCodecOptions = {
          source: "any.csv",
          header,
          columns: header ? undefined : ["a", "b"],
          copyFormat: o.copyFormat,
          escape: o.escape,
          nullString: o.nullString,
          laneColumn: o.lane && !header ? "a" : undefined,
          malformed: "reject",
        };
        const chunks = split(bytes, cuts);
        const outcome = (make: (o: CsvCopyCodecOptions) => Codec) => {
          try {
            return run(make(options), chunks);
          } catch (error) {
            return String(error); // a bad header: it stops the input
          }
        };
        const wasm = outcome(CODECS.wasm);
        assert.deepEqual(wasm, outcome(CODECS.ts));
        assert.deepEqual(run(CODECS.ts(options), [bytes]), wasm);
        if (typeof wasm === "string") return;
        if (wasm.error !== undefined) {
          // Only a bad header stops the input.
          assert.ok(header && wasm.header === undefined, wasm.error.message);
          return;
        }
        // Rows and rejects tile the input: each reject ends a record.
        let previous = 0;
        for (const reject of wasm.rejects) {
          assert.ok(reject.startOffset >= previous);
          assert.ok(reject.endOffset > reject.startOffset);
          assert.ok(
            !wasm.endOffsets.some((end) =>
              end > reject.startOffset && end <= reject.endOffset
            ),
          );
          previous = reject.endOffset;
        }
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("In reject mode the first reject is the error stop mode reports, after the same rows; without its rejects the input decodes to the same rows", () => {
  fc.assert(
    fc.property(
      mixedRecords,
      fc.array(fc.nat(), { maxLength: 4 }),
      rejectOptions,
      (bytes, cuts, o) => {
        const options: CsvCopyCodecOptions = {
          source: "mixed.csv",
          header: false,
          columns: ["a", "b"],
          copyFormat: o.copyFormat,
          escape: o.escape,
          nullString: o.nullString,
          laneColumn: o.lane ? "a" : undefined,
        };
        const chunks = split(bytes, cuts);
        const stopped = run(CODECS.ts(options), chunks);
        const rejected = run(
          CODECS.wasm({ ...options, malformed: "reject" }),
          chunks,
        );
        const first = rejected.rejects[0];
        if (stopped.error === undefined) {
          assert.deepEqual(rejected, stopped);
          return;
        }
        assert.ok(first !== undefined, stopped.error.message);
        assert.equal(
          stopped.error.message,
          `mixed.csv:${first.errorLine}:${first.column}: ${first.reason}`,
        );
        const before =
          rejected.endOffsets.filter((end) => end <= first.startOffset).length;
        assert.deepEqual(
          stopped.endOffsets,
          rejected.endOffsets.slice(0, before),
        );
        assert.deepEqual(stopped.lines, rejected.lines.slice(0, before));
        assert.deepEqual(
          stopped.data,
          rejected.data.subarray(0, rejected.rowEnds[before - 1] ?? 0),
        );
        const rest = run(CODECS.ts(options), [
          without(bytes, rejected.rejects),
        ]);
        assert.equal(rest.error, undefined);
        assert.deepEqual(rest.data, rejected.data);
        assert.deepEqual(rest.laneKeys, rejected.laneKeys);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("In reject mode each kind of malformed record is skipped to its end, with its first line and its error's line and column", async (t) => {
  const cases: [string, string, string, number, number, number, string][] = [
    // name, input after the header, the bad record, line, error line, column, reason
    ["a stray quote", '1,ab"c\n', '1,ab"c\n', 2, 2, 5, "a quote inside"],
    [
      "a character after a closing quote, then a quoted line break",
      '1,"x"y,"z\nz"\n',
      '1,"x"y,"z\nz"\n',
      2,
      2,
      6,
      "a character after a closing quote",
    ],
    ["too few fields", "1\n", "1\n", 2, 2, 2, "expected 3 fields, found 1"],
    [
      "too many fields, the extra one spanning lines",
      '1,2,3,"4\n5"\n',
      '1,2,3,"4\n5"\n',
      2,
      2,
      7,
      "found more (field 4 starts here)",
    ],
    [
      "a quoted field spanning lines, then a stray quote",
      '"1\n2",x"y,3\r\n',
      '"1\n2",x"y,3\r\n',
      2,
      3,
      5,
      "a quote inside",
    ],
    [
      "a quote never closed",
      '1,"open\n2,3,4\n',
      '1,"open\n2,3,4\n7,8,9\n',
      2,
      2,
      3,
      "quoted field is not closed before the end of input",
    ],
    [
      "a lone carriage return ends it",
      '1,a"\r2,3,4\r',
      '1,a"\r',
      2,
      2,
      4,
      "a quote",
    ],
  ];
  for (const [name, body, bad, line, errorLine, column, reason] of cases) {
    await t.step(name, () => {
      const text = `a,b,c\n${body}7,8,9\n`;
      const bytes = encoder.encode(text);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
        const outcomes = Object.values(CODECS).map((make) =>
          run(make({ malformed: "reject" }), chunks)
        );
        assert.deepEqual(outcomes[0], outcomes[1], `split at ${cut}`);
        const [reject, ...others] = outcomes[0].rejects;
        assert.equal(others.length, 0);
        assert.equal(
          decoder.decode(bytes.subarray(reject.startOffset, reject.endOffset)),
          bad,
        );
        assert.deepEqual(
          [reject.line, reject.errorLine, reject.column],
          [line, errorLine, column],
        );
        assert.ok(reject.reason.includes(reason), reject.reason);
        const good = records(outcomes[0], "text");
        if (!bad.includes("open")) {
          assert.deepEqual(good.at(-1), ["7", "8", "9"]);
          assert.equal(
            outcomes[0].lines.at(-1),
            text.split(/\r\n|\r|\n/).length - 1,
          );
        }
      }
    });
  }
});

Deno.test("In reject mode invalid UTF-8 rejects its record, and validation goes on after it", () => {
  const bytes = Uint8Array.of(
    ...encoder.encode('a,b\n1,"x'),
    0xff,
    ...encoder.encode('\ny"\n2,'),
    0xc3,
    ...encoder.encode("\n3,é\n4,"),
    0xed,
    0xa0,
    0x80,
  );
  for (let cut = 0; cut <= bytes.length; cut++) {
    const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
    const [wasm, ts] = Object.values(CODECS).map((make) =>
      run(make({ malformed: "reject" }), chunks)
    );
    assert.deepEqual(wasm, ts, `split at ${cut}`);
    assert.deepEqual(records(wasm, "text"), [["3", "é"]]);
    assert.deepEqual(
      wasm.rejects.map((r) => [r.line, r.errorLine, r.column, r.lines]),
      [[2, 2, 5, 3], [4, 4, 3, 4], [6, 6, 3, 5]],
    );
    assert.deepEqual(
      wasm.rejects.map((r) => [r.startOffset, r.endOffset]),
      [[4, 13], [13, 17], [22, 27]],
    );
  }
});

Deno.test("In reject mode a NUL byte rejects its record, and validation goes on after it", () => {
  const bytes = Uint8Array.of(
    ...encoder.encode('a,b\n1,"x'),
    0x00,
    ...encoder.encode('\ny"\n2,é\n3,' + "z".repeat(30)),
    0x00,
    ...encoder.encode("\n4,w\n"),
  );
  for (let cut = 0; cut <= bytes.length; cut++) {
    const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
    const [wasm, ts] = Object.values(CODECS).map((make) =>
      run(make({ malformed: "reject" }), chunks)
    );
    assert.deepEqual(wasm, ts, `split at ${cut}`);
    assert.deepEqual(records(wasm, "text"), [["2", "é"], ["4", "w"]]);
    assert.deepEqual(
      wasm.rejects.map((r) => [r.line, r.errorLine, r.column]),
      [[2, 2, 5], [5, 5, 33]],
    );
    assert.match(wasm.rejects[0].reason, /a NUL byte \(0x00\)/);
  }
});

Deno.test("WasmCsvCopyCodec and CsvCopyCodec report the same malformed input at the same line and column", async (t) => {
  const cases: [string, Uint8Array, string, number, number][] = [
    [
      "invalid UTF-8 byte",
      Uint8Array.of(
        ...encoder.encode("a,b\n1,x"),
        0xff,
        ...encoder.encode("y\n"),
      ),
      "Cannot decode input: invalid UTF-8",
      2,
      4,
    ],
    [
      "truncated character before a delimiter",
      Uint8Array.of(
        ...encoder.encode("a,b\né"),
        0xe4,
        0xb8,
        ...encoder.encode(",2\n"),
      ),
      "Cannot decode input: invalid UTF-8",
      2,
      2,
    ],
    [
      "UTF-16 surrogate encoded as UTF-8",
      Uint8Array.of(...encoder.encode('a,b\n"1\n2"'), 0xed, 0xa0, 0x80, 0x0a),
      "Cannot decode input: invalid UTF-8",
      3,
      3,
    ],
    [
      "character cut off at the end of input",
      Uint8Array.of(...encoder.encode("a,b\n1,🚀"), 0xf0, 0x9f),
      "Cannot decode input: invalid UTF-8",
      2,
      4,
    ],
    [
      "NUL byte",
      Uint8Array.of(
        ...encoder.encode("a,b\n1,x"),
        0x00,
        ...encoder.encode("y\n"),
      ),
      "Cannot decode input: a NUL byte (0x00)",
      2,
      4,
    ],
    [
      "NUL byte in a quoted field, after a run of plain bytes",
      Uint8Array.of(
        ...encoder.encode('a,b\n1,"' + "x".repeat(20)),
        0x00,
        ...encoder.encode('"\n'),
      ),
      "Cannot decode input: a NUL byte (0x00)",
      2,
      24,
    ],
    [
      "unterminated quote at end of input",
      encoder.encode('a,b\n1,2\n3,"x\ny'),
      "Cannot parse record: quoted field is not closed before the end of input",
      3,
      3,
    ],
    [
      "stray quote inside an unquoted field",
      encoder.encode('a,b\n1,ab"c\n'),
      "Cannot parse field: a quote inside an unquoted field (quote the whole field and double the quote)",
      2,
      5,
    ],
    [
      "too few fields",
      encoder.encode("a,b\n1,2\n😀\n"),
      "Cannot parse record: expected 2 fields, found 1",
      3,
      2,
    ],
    [
      "too many fields",
      encoder.encode("a,b\n1,2,3\n"),
      "Cannot parse record: expected 2 fields, found more (field 3 starts here)",
      2,
      5,
    ],
  ];
  for (const [name, bytes, reason, line, column] of cases) {
    await t.step(name, () => {
      for (let cut = 0; cut <= bytes.length; cut++) {
        const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
        const wasm = run(CODECS.wasm({ source: "bad.csv" }), chunks);
        const ts = run(CODECS.ts({ source: "bad.csv" }), chunks);
        assert.deepEqual(wasm, ts, `split at ${cut}`);
        assert.ok(
          wasm.error?.message.startsWith(
            `bad.csv:${line}:${column}: ${reason}`,
          ),
          `split at ${cut}: ${wasm.error?.message}`,
        );
        assert.equal(wasm.error?.line, line);
        assert.equal(wasm.error?.column, column);
      }
    });
  }
});

Deno.test("WasmCsvCopyCodec and CsvCopyCodec refuse a header with an empty name and leave no bytes", () => {
  for (const make of Object.values(CODECS)) {
    const codec = make({ source: "h.csv" });
    assert.throws(
      () => codec.push(encoder.encode('a,"",c\n1,2,3\n')),
      InputSyntaxError,
      "h.csv:1:1: Cannot read header: column 2 has no name",
    );
    const rest = codec.rowsBeforeError();
    assert.equal(rest.data.length, 0);
    assert.equal(rest.rowEnds.length, 0);
  }
});

Deno.test("WasmCsvCopyCodec reads a backslash escape inside quoted fields", () => {
  const bytes = encoder.encode(
    'a,b\n"say \\"hi\\"","C:\\\\temp\\n"\n"\\x",y\n',
  );
  for (const format of FORMATS) {
    const wasm = run(
      CODECS.wasm({ escape: "\\", copyFormat: format }),
      [bytes],
    );
    assert.deepEqual(records(wasm, format), [
      ['say "hi"', "C:\\temp\\n"],
      ["\\x", "y"],
    ]);
    assert.deepEqual(
      run(CODECS.ts({ escape: "\\", copyFormat: format }), [bytes]),
      wasm,
    );
  }
  assert.throws(
    () => new WasmCsvCopyCodec({ escape: "," }),
    RangeError,
  );
});

Deno.test("WasmCsvCopyCodec keeps a huge quoted field and thousands of rows per chunk", () => {
  const big = "x".repeat(300_000) + '""\n\\\t' + "é".repeat(200_000);
  const rows = Array.from({ length: ROW_CAPACITY * 2 + 5 }, (_, i) => `${i}`);
  const text = `h,v\n0,"${big}"\n` + rows.map((r) => `${r},${r}\n`).join("");
  const bytes = encoder.encode(text);
  for (const format of FORMATS) {
    const options: CsvCopyCodecOptions = { copyFormat: format };
    const chunked = split(bytes, [50_000, 400_000, 700_000, 900_000]);
    const wasm = run(CODECS.wasm(options), chunked);
    assert.deepEqual(run(CODECS.ts(options), [bytes]), wasm);
    const values = records(wasm, format);
    assert.equal(values.length, rows.length + 1);
    assert.equal(values[0][1], big.replace('""', '"'));
    assert.deepEqual(values.at(-1), [rows.at(-1), rows.at(-1)]);
  }
});

Deno.test("WasmCsvCopyCodec keeps offsets and lines past 4 GiB as Numbers", () => {
  const start = 2 ** 32 + 10;
  const options: CsvCopyCodecOptions = {
    header: false,
    columns: ["a"],
    startOffset: start,
    startLine: 3_000_000_000,
  };
  const wasm = run(CODECS.wasm(options), [
    encoder.encode("x\ny\n"),
    encoder.encode('"z'),
  ]);
  assert.deepEqual(wasm.endOffsets, [start + 2, start + 4]);
  assert.deepEqual(wasm.lines, [3_000_000_000, 3_000_000_001]);
  assert.equal(wasm.error?.offset, start + 4);
  assert.equal(wasm.error?.line, 3_000_000_002);
});

Deno.test("CsvDecodeStream gives the same blocks with codec wasm (the default) and ts", async () => {
  const bytes = encoder.encode('id,lane\n1,"e""u"\n2,us\n3,\n');
  const decode = async (codec?: "wasm" | "ts") =>
    await Array.fromAsync(
      ReadableStream.from(split(bytes, [3, 11, 17])).pipeThrough(
        new CsvDecodeStream({ laneColumn: "lane", codec }),
      ),
    );
  const wasm = await decode();
  assert.deepEqual(await decode("ts"), wasm);
  assert.deepEqual(wasm.flatMap((b) => b.laneKeys ?? []), ['e"u', "us"]);
  assert.match(String(wasm.at(-1)?.error), /column "lane" is NULL/);
});

Deno.test("encode --codec wasm and --codec ts print the same COPY data and the same error", async () => {
  const csv = 'id,note\n1,"a ""b""\tc"\n2,\n3,caf\u00e9\n4,x"y\n';
  const results = await Promise.all(
    ["wasm", "ts"].map((codec) =>
      runCli(["encode", "-", "--codec", codec, "--copy-format", "csv"], {
        stdin: csv,
      })
    ),
  );
  for (const result of results) {
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '"1","a ""b""\tc"\n"2",\n"3","caf\u00e9"\n');
    assert.match(result.stderr, /<stdin>:5:4: Cannot parse field: a quote/);
  }
  const bad = await runCli(["encode", "-", "--codec", "js"], { stdin: csv });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Cannot use --codec js: expected wasm or ts/);
});

Deno.test("With encoding latin1 the codecs read any byte as a character: no UTF-8 error, columns count bytes, names and lane keys decoded as Latin-1", () => {
  // "größe,ort" then records in Latin-1: é is 0xE9, ß 0xDF, ü 0xFC.
  const bytes = Uint8Array.of(
    ...[0x67, 0x72, 0xf6, 0xdf, 0x65, 0x2c, 0x6f, 0x72, 0x74, 0x0a],
    ...[0x31, 0x2c, 0x4d, 0xfc, 0x6e, 0x63, 0x68, 0x65, 0x6e, 0x0a],
    ...[0x32, 0x2c, 0xe9, 0xdf, 0xff, 0x80, 0x22, 0x0a],
    ...[0x33, 0x2c, 0xc3, 0x0a],
  );
  for (let cut = 0; cut <= bytes.length; cut++) {
    const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
    const options: CsvCopyCodecOptions = {
      encoding: "latin1",
      laneColumn: "ort",
      source: "l.csv",
    };
    const [wasm, ts] = Object.values(CODECS).map((make) =>
      run(make(options), chunks)
    );
    assert.deepEqual(wasm, ts, `split at ${cut}`);
    assert.deepEqual(wasm.header, ["größe", "ort"]);
    assert.deepEqual(run(CODECS.wasm(options), [bytes]).laneKeys, ["München"]);
    assert.equal(
      wasm.error?.message,
      "l.csv:3:7: Cannot parse field: a quote inside an unquoted field (quote the whole field and double the quote)",
    );
    const rejected = Object.values(CODECS).map((make) =>
      run(make({ ...options, malformed: "reject" }), chunks)
    );
    assert.deepEqual(rejected[0], rejected[1]);
    assert.deepEqual(
      run(CODECS.ts({ ...options, malformed: "reject" }), [bytes]).laneKeys,
      ["München", "\u00c3"],
    );
    assert.deepEqual(
      [...rejected[0].data.subarray(rejected[0].rowEnds[0])],
      [0x33, 0x09, 0xc3, 0x0a],
    );
  }
});

Deno.test("With encoding euc_jp the codecs count columns in characters, whatever the chunk split", () => {
  const euc = (text: string) =>
    Uint8Array.from(
      [...text].flatMap((c) => {
        const kana: Record<string, number[]> = {
          "日": [0xc6, 0xfc],
          "本": [0xcb, 0xdc],
          "ｱ": [0x8e, 0xb1], // half-width katakana
          "丂": [0x8f, 0xb0, 0xa1], // JIS X 0212
        };
        return kana[c] ?? [c.charCodeAt(0)];
      }),
    );
  const bytes = euc('a,b\n日本,ｱ丂x"y\n丂,z\n');
  for (let cut = 0; cut <= bytes.length; cut++) {
    const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
    const [wasm, ts] = Object.values(CODECS).map((make) =>
      run(make({ encoding: "EUC_JP", malformed: "reject" }), chunks)
    );
    assert.deepEqual(wasm, ts, `split at ${cut}`);
    assert.deepEqual(
      wasm.rejects.map((r) => [r.line, r.column]),
      [[2, 7]],
      `split at ${cut}`,
    );
    assert.deepEqual(
      [...wasm.data],
      [...euc("丂\tz\n")],
    );
  }
  assert.throws(
    () => new WasmCsvCopyCodec({ encoding: "EUC_JP", nullString: "é" }),
    /Cannot write "é" in EUC_JP/,
  );
});

Deno.test("In every encoding a NUL byte is bad input at its line and column, whatever the chunk split", () => {
  // 0xE9 0xE9: two characters in Latin-1, one in EUC-KR, invalid in UTF-8
  // (so UTF-8 gets ASCII there instead).
  const bytes = (high: number[]) =>
    Uint8Array.of(
      ...encoder.encode("a,b\n1,x"),
      0x00,
      ...encoder.encode("y\n2,"),
      ...high,
      ...encoder.encode("z\n3,"),
      ...high,
      0x00,
      ...encoder.encode("\n4,w\n"),
    );
  // Each encoding, its two bytes, and how many characters they are.
  const cases: [string, number[], number][] = [
    ["utf-8", [0x41, 0x42], 2],
    ["latin1", [0xe9, 0xe9], 2],
    ["euc_kr", [0xe9, 0xe9], 1],
    ["euc_jp", [0xe9, 0xe9], 1],
  ];
  for (const [encoding, high, characters] of cases) {
    const input = bytes(high);
    for (let cut = 0; cut <= input.length; cut++) {
      const chunks = [input.subarray(0, cut), input.subarray(cut)];
      const options: CsvCopyCodecOptions = { encoding, source: "n.csv" };
      const [wasm, ts] = Object.values(CODECS).map((make) =>
        run(make(options), chunks)
      );
      assert.deepEqual(wasm, ts, `${encoding}, split at ${cut}`);
      assert.equal(
        wasm.error?.message,
        "n.csv:2:4: Cannot decode input: a NUL byte (0x00), which PostgreSQL text cannot hold (remove it, or load the data as bytea)",
        `${encoding}, split at ${cut}`,
      );
      const [rejected, twin] = Object.values(CODECS).map((make) =>
        run(make({ ...options, malformed: "reject" }), chunks)
      );
      assert.deepEqual(rejected, twin, `${encoding}, split at ${cut}`);
      assert.deepEqual(
        rejected.rejects.map((r) => [r.line, r.column]),
        [[2, 4], [4, characters + 3]],
        `${encoding}, split at ${cut}`,
      );
      assert.equal(rejected.rowEnds.length, 2, "rows 2 and 4 load");
    }
  }
});

Deno.test("In any encoding the codecs agree for any bytes and chunk split, in both modes", () => {
  fc.assert(
    fc.property(
      fc.oneof(anyBytes, mixedRecords),
      fc.array(fc.nat(), { maxLength: 6 }),
      fc.constantFrom("latin1", "win1252", "euc_jp", "euc_kr"),
      fc.constantFrom<"stop" | "reject">("stop", "reject"),
      fc.boolean(),
      (bytes, cuts, encoding, malformed, lane) => {
        const options: CsvCopyCodecOptions = {
          header: false,
          columns: ["a", "b"],
          encoding,
          malformed,
          laneColumn: lane ? "a" : undefined,
        };
        const chunks = split(bytes, cuts);
        const wasm = run(CODECS.wasm(options), chunks);
        assert.deepEqual(run(CODECS.ts(options), chunks), wasm);
        assert.deepEqual(run(CODECS.ts(options), [bytes]), wasm);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("An invalid UTF-8 pair right after a closing quote is one error, however the chunks fall", () => {
  // The lead byte 0xc2 is followed by 0xc0, itself a lead byte.
  const bytes = Uint8Array.of(0xc3, 0xa9, 0x2c, 0x22, 0x22, 0xc2, 0xc0, 0x80);
  const options: CsvCopyCodecOptions = {
    source: "any.csv",
    header: false,
    columns: ["a", "b"],
    malformed: "reject",
  };
  const whole = run(CODECS.ts(options), [bytes]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    for (const make of [CODECS.ts, CODECS.wasm]) {
      assert.deepEqual(
        run(make(options), [bytes.subarray(0, cut), bytes.subarray(cut)]),
        whole,
        `split at ${cut}`,
      );
    }
  }
});
