import assert from "node:assert/strict";
import fc from "fast-check";
import { assignSeqs, spliceSeqs } from "../src/write/seq_splice.ts";

const encoder = new TextEncoder();

function block(rows: string[]) {
  const ends: number[] = [];
  let at = 0;
  for (const row of rows) ends.push(at += encoder.encode(row).length + 1);
  return {
    data: encoder.encode(rows.map((row) => row + "\n").join("")),
    rowEnds: Uint32Array.from(ends),
    lines: new Float64Array(rows.length),
    endOffsets: new Float64Array(rows.length),
  };
}

Deno.test("spliceSeqs() appends each row's seq as a last column, for any rows and seqs", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.string({ unit: "grapheme" }).map((s) => s.replace(/\n/g, "")),
          fc.maxSafeNat(),
        ),
        { maxLength: 40 },
      ),
      fc.constantFrom("text" as const, "csv" as const),
      (rows, format) => {
        const out = spliceSeqs(
          block(rows.map(([row]) => row)),
          Float64Array.from(rows.map(([, seq]) => seq)),
          format,
        );
        const delimiter = format === "csv" ? "," : "\t";
        assert.equal(
          new TextDecoder().decode(out),
          rows.map(([row, seq]) => `${row}${delimiter}${seq}\n`).join(""),
        );
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("assignSeqs() numbers each lane's rows in input order from its reserved start", () => {
  const seqs = assignSeqs(
    ["eu", "us", "eu", "eu", "apac"],
    new Map([["eu", 10], ["us", 1], ["apac", 99]]),
  );
  assert.deepEqual([...seqs], [10, 1, 11, 12, 99]);
  assert.throws(
    () => assignSeqs(["x"], new Map()),
    /lane "x" was not reserved/,
  );
});
