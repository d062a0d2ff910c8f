import assert from "node:assert/strict";
import fc from "fast-check";
import { type CopyFormat, decodeCopyRow } from "../src/codec/copy_row.ts";
import { InputSyntaxError } from "../src/errors.ts";
import {
  NdjsonCopyCodec,
  type NdjsonCopyCodecOptions,
} from "../src/codec/ndjson/ndjson_codec.ts";
import {
  type MalformedRecord,
  type RowBlock,
  rowStart,
} from "../src/codec/row_block.ts";
import { WasmNdjsonCopyCodec } from "../src/codec/ndjson/wasm_ndjson_codec.ts";
import { split } from "./_chunks.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a codec produced for a whole input. */
interface Encoded {
  data: Uint8Array;
  rows: (string | null)[][];
  lines: number[];
  endOffsets: number[];
  laneKeys?: string[];
}

type Codec = NdjsonCopyCodec | WasmNdjsonCopyCodec;

/** Both codecs: the WASM module and its TypeScript twin. */
const CODECS: [string, (options: NdjsonCopyCodecOptions) => Codec][] = [
  ["ts", (options) => new NdjsonCopyCodec(options)],
  ["wasm", (options) => new WasmNdjsonCopyCodec(options)],
];

/**
 * Everything each codec produced for `chunks`, joined and decoded; the two
 * must agree byte for byte, error for error (the error is thrown).
 */
function encode(
  chunks: Uint8Array[],
  options: NdjsonCopyCodecOptions,
): Encoded {
  const results = CODECS.map(([, make]) => {
    try {
      const codec = make(options);
      const blocks: RowBlock[] = chunks.map((chunk) => codec.push(chunk));
      blocks.push(codec.finish());
      return { encoded: joined(blocks, options.copyFormat ?? "text") };
    } catch (error) {
      return { error };
    }
  });
  const [ts, wasm] = results;
  if (ts.error !== undefined || wasm.error !== undefined) {
    const describe = (error: unknown) =>
      error instanceof InputSyntaxError
        ? [error.message, error.offset]
        : String(error);
    assert.deepEqual(describe(wasm.error), describe(ts.error), "WASM == TS");
    throw ts.error;
  }
  assert.deepEqual(wasm.encoded, ts.encoded, "WASM == TS");
  return ts.encoded!;
}

function joined(blocks: RowBlock[], format: CopyFormat): Encoded {
  const rows: (string | null)[][] = [];
  for (const block of blocks) {
    for (let i = 0; i < block.rowEnds.length; i++) {
      const row = block.data.subarray(rowStart(block, i), block.rowEnds[i]);
      assert.equal(row[row.length - 1], 0x0a, "a row ends in a line feed");
      rows.push(decodeCopyRow(decoder.decode(row.subarray(0, -1)), format));
    }
  }
  const size = blocks.reduce((sum, block) => sum + block.data.length, 0);
  const data = new Uint8Array(size);
  let at = 0;
  for (const block of blocks) {
    data.set(block.data, at);
    at += block.data.length;
  }
  const laneKeys = blocks[0].laneKeys === undefined
    ? undefined
    : blocks.flatMap((block) => [...block.laneKeys!]);
  return {
    data,
    rows,
    lines: blocks.flatMap((block) => [...block.lines]),
    endOffsets: blocks.flatMap((block) => [...block.endOffsets]),
    laneKeys,
  };
}

/** The error encoding `chunks` throws. */
function errorOf(
  chunks: Uint8Array[],
  options: NdjsonCopyCodecOptions,
): InputSyntaxError {
  try {
    encode(chunks, options);
  } catch (error) {
    if (error instanceof InputSyntaxError) return error;
    throw error;
  }
  assert.fail("expected an InputSyntaxError");
}

// ---------------------------------------------------------------------------
// The record model behind the properties: each column's value, or missing.

type Value =
  | { kind: "string"; value: string }
  | { kind: "number"; text: string }
  | { kind: "boolean"; value: boolean }
  | { kind: "nested"; value: unknown }
  | { kind: "null" };

interface Record {
  /** Per column: its value, or `undefined` when the key is left out. */
  values: (Value | undefined)[];
  /** The order keys are written in: a permutation of the columns. */
  order: number[];
}

/** JSON numbers as text, including ones a double cannot hold. */
const numberText = fc.oneof(
  fc.constantFrom(
    "1e400",
    "-1E-400",
    "0.1000000000000000055511151231257827",
    "123456789012345678901234567890.5",
    "-0",
    "0",
    "1E+2",
    "2.50",
    "-12.5e-03",
  ),
  fc.tuple(
    fc.boolean(),
    fc.oneof(fc.constant("0"), fc.stringMatching(/^[1-9][0-9]{0,20}$/)),
    fc.option(fc.stringMatching(/^[0-9]{1,20}$/)),
    fc.option(fc.stringMatching(/^[eE][+-]?[0-9]{1,3}$/)),
  ).map(([minus, int, frac, exp]) =>
    `${minus ? "-" : ""}${int}${frac === null ? "" : `.${frac}`}${exp ?? ""}`
  ),
);

const nested = fc.oneof(
  fc.array(fc.jsonValue({ stringUnit: "binary", maxDepth: 3 }), {
    maxLength: 4,
  }),
  fc.dictionary(
    fc.string({ unit: "binary", maxLength: 5 }),
    fc.jsonValue({ stringUnit: "binary", maxDepth: 3 }),
    { maxKeys: 4 },
  ),
);

const value: fc.Arbitrary<Value> = fc.oneof(
  // PostgreSQL text holds no NUL: a string with one is bad input (tested
  // apart).
  {
    weight: 4,
    arbitrary: fc.string({ unit: "binary", maxLength: 12 }).map((value) => ({
      kind: "string" as const,
      value: value.replaceAll("\u0000", ""),
    })),
  },
  fc.constantFrom("", "\\", "\t", "\n", "\r", '"', "\\N", "\\.", "😀é")
    .map((value) => ({ kind: "string" as const, value })),
  numberText.map((text) => ({ kind: "number" as const, text })),
  fc.boolean().map((value) => ({ kind: "boolean" as const, value })),
  nested.map((value) => ({ kind: "nested" as const, value })),
  fc.constant({ kind: "null" as const }),
);

const columnNames = fc.uniqueArray(
  fc.string({ unit: "binary", minLength: 1, maxLength: 6 }),
  { minLength: 1, maxLength: 5 },
);

function records(count: number): fc.Arbitrary<Record[]> {
  return fc.array(
    fc.tuple(
      fc.array(fc.option(value, { nil: undefined, freq: 6 }), {
        minLength: count,
        maxLength: count,
      }),
      fc.shuffledSubarray([...Array(count).keys()], {
        minLength: count,
        maxLength: count,
      }),
    ).map(([values, order]) => ({ values, order })),
    { maxLength: 8 },
  );
}

/** The text a writer emits for a nested value, which must pass unchanged. */
type NestedWriter = (value: unknown) => string;

/** Writes a record the way `JSON.stringify` does (numbers as given). */
function compactLine(columns: string[], record: Record): string {
  return writeLine(columns, record, JSON.stringify, JSON.stringify, "");
}

/**
 * Writes a record by hand: whitespace around every token, every non-ASCII
 * character and some ASCII ones as `\uXXXX` (astral ones as surrogate
 * pairs), nested values spread out with spaces and tabs.
 */
function spacedLine(columns: string[], record: Record, space: string): string {
  return writeLine(
    columns,
    record,
    escapeAll,
    (value) => JSON.stringify(value, null, "\t").replaceAll("\n", space),
    space,
  );
}

function writeLine(
  columns: string[],
  record: Record,
  string: (text: string) => string,
  nestedText: NestedWriter,
  space: string,
): string {
  const entries = record.order
    .filter((c) => record.values[c] !== undefined)
    .map((c) =>
      `${space}${string(columns[c])}${space}:${space}${
        valueText(record.values[c]!, string, nestedText)
      }${space}`
    );
  return `${space}{${entries.join(",")}}${space}`;
}

function valueText(
  value: Value,
  string: (text: string) => string,
  nestedText: NestedWriter,
): string {
  switch (value.kind) {
    case "string":
      return string(value.value);
    case "number":
      return value.text;
    case "boolean":
      return String(value.value);
    case "nested":
      return nestedText(value.value);
    case "null":
      return "null";
  }
}

/** A JSON string with every character outside printable ASCII escaped. */
function escapeAll(text: string): string {
  let out = '"';
  for (let k = 0; k < text.length; k++) {
    const unit = text.charCodeAt(k);
    if (unit === 0x22 || unit === 0x5c) {
      out += `\\${text[k]}`;
    } else if (unit >= 0x20 && unit < 0x7f && unit !== 0x61) {
      out += text[k];
    } else {
      // Upper case for odd units, lower case for even ones.
      const hex = unit.toString(16).padStart(4, "0");
      out += `\\u${unit % 2 ? hex.toUpperCase() : hex}`;
    }
  }
  return `${out}"`;
}

/** The values a record's row must decode to, in column order. */
function expectedRow(
  record: Record,
  nestedText: NestedWriter,
): (string | null)[] {
  return record.values.map((value) => {
    if (value === undefined || value.kind === "null") return null;
    if (value.kind === "string") return value.value;
    return valueText(value, JSON.stringify, nestedText);
  });
}

const compactNested: NestedWriter = JSON.stringify;

Deno.test("NdjsonCopyCodec and the WASM codec read JSON.stringify's records in both COPY formats, any chunk split", () => {
  fc.assert(
    fc.property(
      columnNames.chain((columns) =>
        fc.tuple(
          fc.constant(columns),
          records(columns.length),
          fc.constantFrom<CopyFormat>("text", "csv"),
          fc.array(fc.nat(), { maxLength: 6 }),
        )
      ),
      ([columns, list, format, cuts]) => {
        const text = list.map((record) => `${compactLine(columns, record)}\n`)
          .join("");
        const bytes = encoder.encode(text);
        const options = { columns, copyFormat: format };
        const whole = encode([bytes], options);
        assert.deepEqual(
          whole.rows,
          list.map((record) => expectedRow(record, compactNested)),
        );
        assert.deepEqual(whole.lines, list.map((_, k) => k + 1));
        const chunked = encode(split(bytes, cuts), options);
        assert.deepEqual(chunked.data, whole.data);
        assert.deepEqual(chunked.lines, whole.lines);
        assert.deepEqual(chunked.endOffsets, whole.endOffsets);
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("NdjsonCopyCodec and the WASM codec read hand-written records: whitespace, \\u escapes, blank lines, CRLF, no final line feed", () => {
  fc.assert(
    fc.property(
      columnNames.chain((columns) =>
        fc.tuple(
          fc.constant(columns),
          records(columns.length),
          fc.constantFrom(" ", "\t", "  \t ", "\r", ""),
          fc.array(fc.constantFrom("", " ", "\t \r"), { maxLength: 8 }),
          fc.constantFrom("\n", "\r\n"),
          fc.boolean(),
          fc.constantFrom<CopyFormat>("text", "csv"),
          fc.array(fc.nat(), { maxLength: 6 }),
        )
      ),
      ([columns, list, space, blanks, eol, finalEol, format, cuts]) => {
        let text = "";
        const lines: number[] = [];
        const endOffsets: number[] = [];
        let line = 1;
        list.forEach((record, k) => {
          const blank = blanks[k % Math.max(1, blanks.length)];
          if (blank !== undefined && k % 2 === 1) {
            text += `${blank}\n`;
            line++;
          }
          lines.push(line++);
          text += spacedLine(columns, record, space);
          if (k < list.length - 1 || finalEol) text += eol;
          endOffsets.push(encoder.encode(text).length);
        });
        const bytes = encoder.encode(text);
        const spread: NestedWriter = (value) =>
          JSON.stringify(value, null, "\t").replaceAll("\n", space);
        const options = { columns, copyFormat: format };
        const whole = encode([bytes], options);
        assert.deepEqual(
          whole.rows,
          list.map((record) => expectedRow(record, spread)),
        );
        assert.deepEqual(whole.lines, lines);
        assert.deepEqual(whole.endOffsets, endOffsets);
        const chunked = encode(split(bytes, cuts), options);
        assert.deepEqual(chunked.data, whole.data);
        assert.deepEqual(chunked.endOffsets, whole.endOffsets);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("NdjsonCopyCodec gives each row its lane key: a string's text, a number's text", () => {
  const lane = fc.oneof(
    // No NUL: PostgreSQL text cannot hold one.
    fc.string({ unit: "binary", maxLength: 6 }).map((text) => {
      const key = text.replaceAll("\u0000", "");
      return { json: JSON.stringify(key), key };
    }),
    fc.constantFrom("\\", "a\tb", '"q"', "\\N").map((key) => ({
      json: JSON.stringify(key),
      key,
    })),
    numberText.map((text) => ({ json: text, key: text })),
    fc.boolean().map((flag) => ({ json: String(flag), key: String(flag) })),
  );
  fc.assert(
    fc.property(
      fc.array(lane, { minLength: 1, maxLength: 10 }),
      fc.constantFrom<CopyFormat>("text", "csv"),
      fc.array(fc.nat(), { maxLength: 4 }),
      (lanes, format, cuts) => {
        const text = lanes.map((l, k) => `{"n":${k},"region":${l.json}}\n`)
          .join("");
        const out = encode(split(encoder.encode(text), cuts), {
          columns: ["region", "n"],
          laneColumn: "region",
          copyFormat: format,
        });
        assert.deepEqual(out.laneKeys, lanes.map((l) => l.key));
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("NdjsonCopyCodec passes numbers and nested values through byte for byte", async (t) => {
  const cases: [name: string, json: string, expected: (string | null)[]][] = [
    [
      "numbers a double cannot hold",
      '{"n": 0.1000000000000000055511151231257827, "m": 1e400}',
      ["0.1000000000000000055511151231257827", "1e400", null],
    ],
    [
      "nested values keep their whitespace and escapes",
      '{"j": { "a" : [1, 2.50, "\\u00e9\\"", {}] , "b":null}}',
      [null, null, '{ "a" : [1, 2.50, "\\u00e9\\"", {}] , "b":null}'],
    ],
    [
      "a tab inside a nested value",
      '{"j": [1,\t2]}',
      [null, null, "[1,\t2]"],
    ],
    [
      "strings are unescaped",
      '{"n": "caf\\u00e9 \\ud83d\\ude00 \\/ \\b\\f\\n\\r\\t\\\\ \\"q\\""}',
      ['café 😀 / \b\f\n\r\t\\ "q"', null, null],
    ],
    [
      "booleans, null and a missing key",
      '{"m": true, "j": false, "n": null}',
      [null, "true", "false"],
    ],
    ["an empty object", "{}", [null, null, null]],
    ["an empty string is not NULL", '{"n": ""}', ["", null, null]],
    [
      "a key written with escapes",
      '{"\\u006e": "x", "\\u006A": 1}',
      ["x", null, "1"],
    ],
  ];
  for (const [name, json, expected] of cases) {
    await t.step(name, () => {
      for (const format of ["text", "csv"] as const) {
        const out = encode([encoder.encode(`${json}\n`)], {
          columns: ["n", "m", "j"],
          copyFormat: format,
        });
        assert.deepEqual(out.rows, [expected]);
      }
    });
  }
});

Deno.test("NdjsonCopyCodec writes NULL apart from the empty string, and \\N and \\. as data", () => {
  const json = '{"a":null,"b":"","c":"\\\\N","d":"\\\\."}\n{"b":null}\n';
  const columns = ["a", "b", "c", "d"];
  const text = encode([encoder.encode(json)], { columns });
  assert.equal(
    decoder.decode(text.data),
    "\\N\t\t\\\\N\t\\\\.\n\\N\t\\N\t\\N\t\\N\n",
  );
  const csv = encode([encoder.encode(json)], { columns, copyFormat: "csv" });
  assert.equal(decoder.decode(csv.data), ',"","\\N","\\."\n,,,\n');
});

Deno.test("NdjsonCopyCodec skips a byte order mark and blank lines, and counts lines and offsets", () => {
  const json = '\uFEFF\n  \n{"a":1}\r\n\n{"a":2}';
  const bytes = encoder.encode(json);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const out = encode(split(bytes, [cut]), { columns: ["a"] });
    assert.deepEqual(out.rows, [["1"], ["2"]]);
    assert.deepEqual(out.lines, [3, 5]);
    assert.deepEqual(out.endOffsets, [16, bytes.length]);
  }
});

Deno.test("NdjsonCopyCodec continues from startOffset and startLine", () => {
  const out = encode([encoder.encode('{"a":1}\n{"a":2}\n')], {
    columns: ["a"],
    startOffset: 1000,
    startLine: 41,
  });
  assert.deepEqual(out.lines, [41, 42]);
  assert.deepEqual(out.endOffsets, [1008, 1016]);
});

// [name, input, line, column, reason]
const ERRORS: [string, string | Uint8Array, number, number, RegExp][] = [
  [
    "an unknown key",
    '{"a":1}\n{"a":2,"zz":3}\n',
    2,
    8,
    /key "zz" is not a column \(columns: a, b\)/,
  ],
  ["a duplicate key", '{"a":1,"b":2,"a":3}', 1, 14, /key "a" appears twice/],
  [
    "a duplicate key written with an escape",
    '{"a":1, "\\u0061":2}',
    1,
    9,
    /key "a" appears twice/,
  ],
  [
    "the column counts code points",
    '{"b":"åü😀", "zz":1}',
    1,
    13,
    /key "zz" is not a column/,
  ],
  ["an array line", "[1, 2]", 1, 1, /expected a JSON object, found "\["/],
  ["a string line", '\n"x"', 2, 1, /expected a JSON object, found a quote/],
  ["a number line", "  42", 1, 3, /expected a JSON object, found "4"/],
  ["a missing colon", '{"a" 1}', 1, 6, /expected : after the key, found "1"/],
  ["a trailing comma", '{"a":1,}', 1, 8, /expected a key, found "}"/],
  ["a key that is not a string", "{a:1}", 1, 2, /expected a key or }/],
  ["a missing value", '{"a":}', 1, 6, /expected a value, found "}"/],
  [
    "the input ends inside the object",
    '{"a":1',
    1,
    7,
    /the input ends before the object is closed/,
  ],
  [
    "the line ends inside the object",
    '{"a":1\n}',
    1,
    7,
    /the line ends before the object is closed/,
  ],
  [
    "the line ends inside a string",
    '{"a":"x\ny"}',
    1,
    8,
    /the line ends before the object is closed/,
  ],
  [
    "two objects on a line",
    '{"a":1} {"a":2}',
    1,
    9,
    /expected the end of the line after the object, found "{"/,
  ],
  ["a misspelt literal", '{"a":tru}', 1, 9, /expected "true", found "}"/],
  ["a capital literal", '{"a":True}', 1, 6, /expected a value, found "T"/],
  ["a leading zero", '{"a":01}', 1, 7, /starts with 0 and another digit/],
  ["a bare minus", '{"a":-}', 1, 7, /expected a digit, found "}"/],
  ["a bare decimal point", '{"a":1.}', 1, 8, /expected a digit, found "}"/],
  ["a bare exponent", '{"a":1e}', 1, 8, /expected a digit or a sign/],
  ["a plus sign", '{"a":+1}', 1, 6, /expected a value, found "\+"/],
  ["an invalid escape", '{"a":"\\x"}', 1, 8, /invalid escape \\x/],
  ["a short \\u escape", '{"a":"\\u12"}', 1, 11, /expected a hex digit/],
  [
    "a raw tab in a string",
    '{"a":"x\ty"}',
    1,
    8,
    /control character U\+0009 in a string/,
  ],
  [
    "a high surrogate alone",
    '{"a":"\\ud83d"}',
    1,
    13,
    /\\uD83D is half of a surrogate pair/,
  ],
  [
    "a NUL character escaped in a value",
    '{"a":"x\\u0000"}',
    1,
    13,
    /^Cannot parse record: \\u0000 in a string, a NUL character/,
  ],
  [
    "a low surrogate alone",
    '{"a":"\\ude00"}',
    1,
    12,
    /\\uDE00 is half of a surrogate pair/,
  ],
  [
    "a high surrogate before another escape",
    '{"a":"\\ud83d\\n"}',
    1,
    14,
    /\\uD83D is half of a surrogate pair/,
  ],
  [
    "an unclosed nested array",
    '{"a":[1}',
    1,
    8,
    /expected , or \], found "}"/,
  ],
  ["a nested trailing comma", '{"a":[1,]}', 1, 9, /expected a value/],
  [
    "a nested object without a colon",
    '{"a":{"x" 1}}',
    1,
    11,
    /expected : after the key/,
  ],
  [
    "a nested control character",
    '{"a":{"x":"\u0001"}}',
    1,
    12,
    /control character U\+0001/,
  ],
  [
    "invalid UTF-8: a byte that is never UTF-8",
    bytesOf('{"a":"x', [0xff], '"}'),
    1,
    8,
    /invalid UTF-8 \(byte 0xFF\)/,
  ],
  [
    "invalid UTF-8: an overlong encoding",
    bytesOf('{"a":"', [0xc0, 0xaf], '"}'),
    1,
    7,
    /invalid UTF-8 \(byte 0xC0\)/,
  ],
  [
    "invalid UTF-8: an encoded surrogate",
    bytesOf('{"a":"', [0xed, 0xa0, 0x80], '"}'),
    1,
    7,
    /invalid UTF-8 \(byte 0xA0 cannot continue the character that starts with 0xED\)/,
  ],
  [
    "invalid UTF-8: a stray continuation byte",
    bytesOf('{"a":"é', [0x80], '"}'),
    1,
    8,
    /invalid UTF-8 \(byte 0x80\)/,
  ],
  [
    "invalid UTF-8: a truncated character",
    bytesOf('{"a":"', [0xe2, 0x82], '"}'),
    1,
    7,
    /invalid UTF-8 \(byte 0x22 cannot continue the character that starts with 0xE2\)/,
  ],
  [
    "invalid UTF-8: above U+10FFFF",
    bytesOf('{"a":"', [0xf4, 0x90, 0x80, 0x80], '"}'),
    1,
    7,
    /invalid UTF-8 \(byte 0x90 cannot continue the character that starts with 0xF4\)/,
  ],
  [
    "invalid UTF-8 in a key",
    bytesOf('\n\n{"', [0xfe], '":1}'),
    3,
    3,
    /invalid UTF-8 \(byte 0xFE\)/,
  ],
  [
    "invalid UTF-8 in a nested value",
    bytesOf('{"a":["', [0xc3, 0x28], '"]}'),
    1,
    8,
    /invalid UTF-8 \(byte 0x28 cannot continue the character that starts with 0xC3\)/,
  ],
  [
    "a non-ASCII byte outside a string",
    bytesOf('{"a":', [0xc3, 0xa9], "}"),
    1,
    6,
    /expected a value, found byte 0xC3/,
  ],
];

function bytesOf(before: string, bytes: number[], after: string): Uint8Array {
  return new Uint8Array([
    ...encoder.encode(before),
    ...bytes,
    ...encoder.encode(after),
  ]);
}

Deno.test("NdjsonCopyCodec and the WASM codec name line and column of malformed input, for every chunk split", async (t) => {
  for (const [name, input, line, column, reason] of ERRORS) {
    await t.step(name, () => {
      const bytes = typeof input === "string" ? encoder.encode(input) : input;
      const options = { columns: ["a", "b"], source: "t.ndjson" };
      const whole = errorOf([bytes], options);
      assert.match(whole.reason, /^Cannot parse record: /);
      assert.match(whole.reason, reason);
      assert.equal(whole.line, line, whole.message);
      assert.equal(whole.column, column, whole.message);
      assert.equal(whole.source, "t.ndjson");
      for (let cut = 0; cut <= bytes.length; cut++) {
        const error = errorOf(split(bytes, [cut, cut + 1]), options);
        assert.deepEqual(
          [error.message, error.offset],
          [whole.message, whole.offset],
          `cut at ${cut}`,
        );
      }
    });
  }
});

Deno.test("a character cut short is reported at its first byte, by offset too, for every chunk split", () => {
  // Line 2: "€" is complete; the next character's lead byte 0xF0 is at
  // column 10 and byte offset 21 (10 + 6 + 3 + 2), and 0x22 cuts it short.
  const bytes = bytesOf('{"a":"x"}\n{"a":"€ab', [0xf0, 0x9f, 0x98], '"}');
  const options = { columns: ["a"], source: "t.ndjson" };
  for (let cut = 0; cut <= bytes.length; cut++) {
    const error = errorOf(split(bytes, [cut]), options);
    assert.deepEqual(
      [error.line, error.column, error.offset],
      [2, 10, 21],
      `cut at ${cut}: ${error.message}`,
    );
  }
});

Deno.test("NdjsonCopyCodec fails a record whose lane key is null or missing", async (t) => {
  const options = { columns: ["a", "k"], laneColumn: "k" };
  await t.step("null", () => {
    const error = errorOf([encoder.encode('{"k":"x"}\n{"a":1, "k":null}')], {
      ...options,
    });
    assert.deepEqual([error.line, error.column], [2, 13]);
    assert.match(error.reason, /key "k" is null \(every record needs a lane\)/);
  });
  await t.step("missing", () => {
    const error = errorOf([encoder.encode('{"a":1}')], options);
    assert.deepEqual([error.line, error.column], [1, 7]);
    assert.match(error.reason, /key "k" is missing/);
  });
});

Deno.test("NdjsonCopyCodec hands out the rows before a malformed record", async (t) => {
  for (const [name, make] of CODECS) {
    await t.step(name, () => {
      const codec = make({ columns: ["a"] });
      assert.throws(
        () => codec.push(encoder.encode('{"a":1}\n{"a":2}\n{"a":}\n')),
        InputSyntaxError,
      );
      const before = codec.rowsBeforeError();
      assert.equal(decoder.decode(before.data), "1\n2\n");
      assert.deepEqual([...before.lines], [1, 2]);
    });
  }
});

/** What a codec made of `chunks` in reject mode: rows, metadata, rejects. */
function rejecting(
  make: (options: NdjsonCopyCodecOptions) => Codec,
  chunks: Uint8Array[],
  options: NdjsonCopyCodecOptions,
): Encoded & { rejects: MalformedRecord[] } {
  const codec = make({ ...options, malformed: "reject" });
  const blocks: RowBlock[] = chunks.map((chunk) => codec.push(chunk));
  blocks.push(codec.finish());
  return {
    ...joined(blocks, options.copyFormat ?? "text"),
    rejects: blocks.flatMap((block) => [...block.rejects ?? []]),
  };
}

Deno.test("In reject mode NdjsonCopyCodec and the WASM codec skip each malformed line with its line, column and reason, for every chunk split", async (t) => {
  const cases: [string, string | Uint8Array, number, number, RegExp][] = [
    // Those on the first line (a line break in one ends its record there).
    ...ERRORS.filter(([, , line, , reason]) =>
      line === 1 && !reason.source.includes("input ends")
    ),
    ["an unknown key", '{"a":1,"c":2}', 1, 8, /key "c" is not a column/],
    ["a line that is not an object", "[1,2]", 1, 1, /a JSON object/],
  ];
  for (const [name, input, line, column, reason] of cases) {
    await t.step(name, () => {
      const bad = typeof input === "string" ? encoder.encode(input) : input;
      // The bad record is line 3, between good ones.
      const bytes = bytesOf('{"a":1}\n\n', [...bad, 0x0a], '{"b":"x"}');
      const options = { columns: ["a", "b"], source: "t.ndjson" };
      const start = 9;
      const stop = (() => {
        const text = decoder.decode(bad);
        return text.includes("\n")
          ? start + text.indexOf("\n") + 1
          : start + bad.length + 1;
      })();
      for (let cut = 0; cut <= bytes.length; cut++) {
        const chunks = split(bytes, [cut, cut + 3]);
        const [ts, wasm] = CODECS.map(([, make]) =>
          rejecting(make, chunks, options)
        );
        assert.deepEqual(wasm, ts, `cut at ${cut}`);
        if (!bad.includes(0x0a)) assert.equal(ts.rejects.length, 1);
        const [reject] = ts.rejects;
        assert.deepEqual(
          [reject.line, reject.errorLine, reject.column, reject.lines],
          [line + 2, line + 2, column, 3],
        );
        assert.equal(reject.startOffset, start);
        assert.equal(reject.endOffset, stop);
        assert.match(reject.reason, reason);
        if (!bad.includes(0x0a)) {
          assert.deepEqual(ts.rows, [["1", null], [null, "x"]]);
          assert.deepEqual(ts.lines, [1, 4]);
        }
      }
    });
  }
});

Deno.test("In reject mode a NULL or missing lane key, and a record cut off by the end of input, are rejected", () => {
  const bytes = encoder.encode(
    '{"k":"x"}\n{"a":1, "k":null}\n{"a":2}\n{"k":"y"}\n{"a":3, "k":"z"',
  );
  const options = { columns: ["a", "k"], laneColumn: "k" };
  for (let cut = 0; cut <= bytes.length; cut++) {
    const chunks = split(bytes, [cut]);
    const [ts, wasm] = CODECS.map(([, make]) =>
      rejecting(make, chunks, options)
    );
    assert.deepEqual(wasm, ts);
    assert.deepEqual(ts.laneKeys, ["x", "y"]);
    assert.deepEqual(
      ts.rejects.map((r) => [r.line, r.column, r.lines, r.reason]),
      [
        [
          2,
          13,
          2,
          'Cannot read lane key: key "k" is null (every record needs a lane)',
        ],
        [
          3,
          7,
          3,
          'Cannot read lane key: key "k" is missing (every record needs a lane)',
        ],
        [
          5,
          16,
          4,
          "Cannot parse record: the input ends before the object is closed",
        ],
      ],
    );
    assert.deepEqual(
      ts.rejects.map((r) =>
        decoder.decode(bytes.subarray(r.startOffset, r.endOffset))
      ),
      ['{"a":1, "k":null}\n', '{"a":2}\n', '{"a":3, "k":"z"'],
    );
  }
});

// Lines good and bad: JSON.stringify's records, each kind of malformed
// line, and bytes of any kind.
const mixedLines = fc.array(
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        a: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
        b: fc.string({ unit: "grapheme", maxLength: 5 }),
      }, { requiredKeys: [] }).map((record) =>
        encoder.encode(JSON.stringify(record) + "\n")
      ),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        ...[
          '{"a":1,"c":2}\n',
          '{"a":1,"a":2}\n',
          "[1]\n",
          '{"a":tru}\n',
          '{"a":"x\ty"}\r\n',
          '{"b":"\\ud83d"}\n',
          '{"a":1} x\n',
          '{"a":\n',
          "  \n",
          "\n",
          '{"b":"open',
        ].map((text) => encoder.encode(text)),
        bytesOf('{"a":"', [0xff], '"}\n'),
        bytesOf('{"', [0xc3], '":1}\n'),
      ),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 6 }),
    },
  ),
  { maxLength: 12 },
).map((parts) => Uint8Array.from(parts.flatMap((part) => [...part])));

Deno.test("In reject mode NdjsonCopyCodec and the WASM codec give the same rows and rejects for any lines and chunk split; the first reject is stop mode's error", () => {
  fc.assert(
    fc.property(
      mixedLines,
      fc.array(fc.nat(), { maxLength: 5 }),
      fc.constantFrom<CopyFormat>("text", "csv"),
      fc.boolean(),
      (bytes, cuts, copyFormat, lane) => {
        const options: NdjsonCopyCodecOptions = {
          columns: ["a", "b"],
          copyFormat,
          laneColumn: lane ? "b" : undefined,
          source: "mixed.ndjson",
        };
        const chunks = split(bytes, cuts);
        const [ts, wasm] = CODECS.map(([, make]) =>
          rejecting(make, chunks, options)
        );
        assert.deepEqual(wasm, ts);
        assert.deepEqual(rejecting(CODECS[0][1], [bytes], options), ts);
        let stopped: InputSyntaxError | undefined;
        try {
          encode(chunks, options);
        } catch (error) {
          if (!(error instanceof InputSyntaxError)) throw error;
          stopped = error;
        }
        const [first] = ts.rejects;
        if (stopped === undefined) {
          assert.equal(first, undefined);
          return;
        }
        assert.equal(
          stopped.message,
          `mixed.ndjson:${first.errorLine}:${first.column}: ${first.reason}`,
        );
        // Without its rejected lines the input has no malformed record.
        const kept: number[] = [];
        let at = 0;
        for (const reject of ts.rejects) {
          kept.push(...bytes.subarray(at, reject.startOffset));
          at = reject.endOffset;
        }
        kept.push(...bytes.subarray(at));
        const rest = encode([Uint8Array.from(kept)], options);
        assert.deepEqual(rest.data, ts.data);
      },
    ),
    { numRuns: 1500 },
  );
});

Deno.test("NdjsonCopyCodec refuses columns it cannot map", () => {
  assert.throws(() => new NdjsonCopyCodec({ columns: [] }), /--columns/);
  assert.throws(
    () => new NdjsonCopyCodec({ columns: ["a", "a"] }),
    /"a" is named twice/,
  );
  assert.throws(
    () => new NdjsonCopyCodec({ columns: ["a"], laneColumn: "r" }),
    /lane column "r": no such column/,
  );
});

Deno.test("NdjsonCopyCodec reads deep nesting", () => {
  const deep = "[".repeat(500) + "]".repeat(500);
  const out = encode([encoder.encode(`{"a":${deep}}`)], { columns: ["a"] });
  assert.deepEqual(out.rows, [[deep]]);
});

Deno.test("WasmNdjsonCopyCodec grows its memory for long values, many columns and many rows", () => {
  const columns = Array.from({ length: 300 }, (_, c) => `c${c}`);
  const long = "é\\u00e9\\t".repeat(100_000);
  const lines = [
    JSON.stringify({ c0: "x" }),
    `{"c299": "${long}", "c1": [${"[".repeat(2000)}${"]".repeat(2000)}]}`,
    ...Array.from({ length: 20_000 }, (_, k) => `{"c5": ${k}}`),
  ];
  const bytes = encoder.encode(lines.join("\n"));
  const chunks = split(bytes, [65536, 65536 * 3, 1_000_000]);
  const out = encode(chunks, { columns, copyFormat: "csv" });
  assert.equal(out.rows.length, 20_002);
  assert.equal(out.rows[1][299], "éé\t".repeat(100_000));
  assert.equal(out.rows[20_001][5], "19999");
});
