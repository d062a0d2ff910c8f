import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import {
  CsvCopyCodec,
  type CsvCopyCodecOptions,
} from "../src/codec/csv/csv_codec.ts";
import { type CopyFormat, decodeCopyRow } from "../src/codec/copy_row.ts";
import { InputSyntaxError } from "../src/errors.ts";
import type { RowBlock } from "../src/codec/row_block.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Everything the codec produced for `chunks`, joined. */
function encode(
  chunks: Uint8Array[],
  options: CsvCopyCodecOptions = {},
): { copy: string; lines: number[]; endOffsets: number[]; header?: string[] } {
  const codec = new CsvCopyCodec(options);
  const blocks: RowBlock[] = chunks.map((chunk) => codec.push(chunk));
  blocks.push(codec.finish());
  return {
    copy: blocks.map((block) => decoder.decode(block.data)).join(""),
    lines: blocks.flatMap((block) => [...block.lines]),
    endOffsets: blocks.flatMap((block) => [...block.endOffsets]),
    header: codec.header,
  };
}

/** The records as csv-parse reads them: unquoted empty is NULL. */
function reference(
  text: string,
  options: { delimiter?: string; nullString?: string } = {},
): (string | null)[][] {
  return parse(text, {
    bom: true,
    delimiter: options.delimiter ?? ",",
    relax_column_count: false,
    record_delimiter: ["\r\n", "\n", "\r"],
    skip_empty_lines: true,
    cast: (value: string, context: { quoting: boolean }) =>
      !context.quoting && value === (options.nullString ?? "") ? null : value,
  });
}

/**
 * The codec's COPY rows, read back as values: text rows one per line, csv
 * rows by csv-parse (COPY csv is CSV whose unquoted empty field is NULL).
 */
function rowsOf(copy: string, format: CopyFormat): (string | null)[][] {
  if (copy === "") return [];
  if (format === "csv") return reference(copy);
  return copy.slice(0, -1).split("\n").map((row) => decodeCopyRow(row, format));
}

// Each case is written out so that a failure names its rule.
const CASES: [name: string, csv: string][] = [
  ["plain fields", "a,b\n1,2\n3,4\n"],
  ["a quoted delimiter", 'a,b\n"x,y",2\n'],
  ["doubled quotes", 'a,b\n"say ""hi""",""""\n'],
  ["line breaks inside quotes", 'a,b\n"line1\nline2","cr\r\nlf"\n'],
  ["NULL vs the empty string", 'a,b,c\n,"",x\n"",,\n'],
  ["CRLF line ends", "a,b\r\n1,2\r\n3,\r\n"],
  ["a lone CR ends a record", "a,b\r1,2\r3,4\r"],
  ["no line break at the end", "a,b\n1,2\n3,4"],
  ["a trailing delimiter is an empty last field", "a,b\n1,\n2,"],
  ["a byte order mark", "\uFEFFa,b\n1,2\n"],
  ["multibyte UTF-8", 'a,b\nå∂ƒ,😀\n"日本,語",é\n'],
  ["blank lines are not records", "a,b\n\n1,2\n\n\n3,4\n"],
  ["backslashes and tabs", 'a,b\nC:\\path,"tab\there"\n\\N,\\.\n'],
  ["a field that is exactly \\.", 'a\n"\\."\n\\.\n'],
  ["spaces are data", "a,b\n  1 , 2  \n"],
];

Deno.test("CsvCopyCodec reads every quoting rule as csv-parse does, in both COPY formats", async (t) => {
  for (const [name, csv] of CASES) {
    await t.step(name, () => {
      const [header, ...records] = reference(csv);
      for (const format of ["text", "csv"] as const) {
        const out = encode([encoder.encode(csv)], { copyFormat: format });
        assert.deepEqual(out.header, header);
        assert.deepEqual(rowsOf(out.copy, format), records);
      }
    });
  }
});

Deno.test("CsvCopyCodec writes NULL as \\N and a quoted empty field as an empty string", () => {
  const out = encode([encoder.encode('a,b,c\n,"",x\n')]);
  assert.equal(out.copy, "\\N\t\tx\n");
  const csv = encode([encoder.encode('a,b,c\n,"",x\n')], { copyFormat: "csv" });
  assert.equal(csv.copy, ',"","x"\n');
});

Deno.test("CsvCopyCodec escapes backslash, tab, LF and CR for COPY text", () => {
  const out = encode([encoder.encode('a\n"\\ \t \n \r"\n')]);
  assert.equal(out.copy, "\\\\ \\t \\n \\r\n");
});

Deno.test("CsvCopyCodec --null makes a matching unquoted field NULL and keeps a quoted one", () => {
  const csv = 'a,b,c\nNA,"NA",\n';
  const out = encode([encoder.encode(csv)], { nullString: "NA" });
  assert.deepEqual(rowsOf(out.copy, "text"), [[null, "NA", ""]]);
  assert.deepEqual(
    rowsOf(out.copy, "text"),
    reference(csv, { nullString: "NA" }).slice(1),
  );
});

Deno.test("CsvCopyCodec honours a tab delimiter as csv-parse does", () => {
  const tsv = 'a\tb\nx,y\t"q\tq"\n\t\n';
  const out = encode([encoder.encode(tsv)], { delimiter: "\t" });
  assert.deepEqual(
    rowsOf(out.copy, "text"),
    reference(tsv, { delimiter: "\t" }).slice(1),
  );
});

Deno.test("CsvCopyCodec remembers each record's first source line and end offset", () => {
  const csv = 'a,b\n1,"two\nlines"\r\n\n3,4\n';
  const out = encode([encoder.encode(csv)]);
  assert.deepEqual(out.lines, [2, 5]);
  assert.deepEqual(out.endOffsets, [
    csv.indexOf("\r\n") + 2,
    encoder.encode(csv).length,
  ]);
});

Deno.test("CsvCopyCodec gives identical output for a record split at every byte position", () => {
  const csv = '\uFEFFid,note,n\r\n1,"a ""quoted"", text\r\nwith å line",\r\n' +
    '2,😀 emoji,""\n3,"",\r4,"tail\\",x';
  const bytes = encoder.encode(csv);
  for (const format of ["text", "csv"] as const) {
    const whole = encode([bytes], { copyFormat: format });
    assert.deepEqual(
      rowsOf(whole.copy, format),
      reference(csv).slice(1),
    );
    for (let split = 0; split <= bytes.length; split++) {
      const parts = encode(
        [bytes.subarray(0, split), bytes.subarray(split)],
        { copyFormat: format },
      );
      assert.deepEqual(parts, whole, `split at byte ${split} (${format})`);
    }
    // And one byte at a time.
    const single = [...bytes].map((b) => Uint8Array.of(b));
    assert.deepEqual(encode(single, { copyFormat: format }), whole);
  }
});

Deno.test("CsvCopyCodec names line and column of malformed records", async (t) => {
  const cases: [string, string, number, number, RegExp][] = [
    ["wrong field count", "a,b\n1,2\n3\n", 3, 2, /expected 2 fields, found 1/],
    ["too many fields", "a,b\n1,2,3\n", 2, 5, /expected 2 fields, found more/],
    ["stray quote", 'a,b\n1,x"y\n', 2, 4, /quote inside an unquoted field/],
    [
      "text after a closing quote",
      'a,b\n1,"x"y\n',
      2,
      6,
      /after a closing quote/,
    ],
    ["unterminated quote", 'a,b\n1,"open\nstill', 2, 3, /not closed/],
    ["column counts code points", 'a,b\nåå,é"\n', 2, 5, /quote inside/],
  ];
  for (const [name, csv, line, column, reason] of cases) {
    await t.step(name, () => {
      let caught: unknown;
      try {
        encode([encoder.encode(csv)], { source: "t.csv" });
      } catch (error) {
        caught = error;
      }
      assert.ok(caught instanceof InputSyntaxError, `no error for ${name}`);
      assert.equal(caught.line, line);
      assert.equal(caught.column, column);
      assert.match(caught.reason, reason);
      assert.ok(caught.message.startsWith(`t.csv:${line}:${column}: `));
    });
  }
});

Deno.test("CsvCopyCodec keeps the rows before a malformed record", () => {
  const codec = new CsvCopyCodec();
  assert.throws(
    () => codec.push(encoder.encode("a,b\n1,2\n3,4\n5\n")),
    InputSyntaxError,
  );
  const good = codec.rowsBeforeError();
  assert.equal(decoder.decode(good.data), "1\t2\n3\t4\n");
});
