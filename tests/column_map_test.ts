import assert from "node:assert/strict";
import fc from "fast-check";
import type { ColumnEntry } from "../src/codec/column_entry.ts";
import {
  remapColumns,
  resolveFields,
  resolveKeys,
} from "../src/codec/column_map.ts";
import { UsageError } from "../src/errors.ts";

const HEADER = ["id", "nickname", "age"];

Deno.test("resolveFields() maps a header by position or by name", async (t) => {
  const cases: [string, ColumnEntry[] | undefined, ColumnEntry[]][] = [
    ["the header's names", undefined, ["id", "nickname", "age"]],
    ["positions: a name replaces the header's, null skips", [
      "id",
      "nick",
      null,
    ], [
      "id",
      { field: "nickname", column: "nick" },
      { field: "age", column: null },
    ]],
    ["a positional field:column checks the name there", [
      "id",
      { field: "nickname", column: "nick" },
      "age",
    ], ["id", { field: "nickname", column: "nick" }, "age"]],
    ["by name, partial and in any order", [
      { field: "age", column: null },
      { field: "nickname", column: "nick" },
    ], ["id", { field: "nickname", column: "nick" }, {
      field: "age",
      column: null,
    }]],
  ];
  for (const [name, columns, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(resolveFields(HEADER, { columns }), expected);
    });
  }
});

Deno.test("resolveFields() refuses a map that does not fit, with the reason", async (t) => {
  const cases: [string, ColumnEntry[], RegExp][] = [
    [
      "too few entries",
      ["id", "nick"],
      /it names 2 fields and the header has 3/,
    ],
    [
      "a name not at its place",
      ["id", { field: "age", column: "a" }, "x"],
      /field 2 is "nickname" in the header, not "age"/,
    ],
    [
      "a field the header lacks",
      [{ field: "color", column: null }],
      /the header has no field "color" \(its fields: id, nickname, age\)/,
    ],
    ["a field named twice", [{ field: "age", column: null }, {
      field: "age",
      column: "a",
    }], /field "age" is named twice/],
    ["every field skipped", [null, null, null], /every field is skipped/],
  ];
  for (const [name, columns, expected] of cases) {
    await t.step(name, () => {
      assert.throws(
        () => resolveFields(HEADER, { columns, source: "p.csv" }),
        (error) => error instanceof UsageError && expected.test(error.message),
      );
    });
  }
});

Deno.test("resolveFields() without a header takes entries by position", () => {
  assert.deepEqual(resolveFields(undefined, { columns: ["a", null, "b"] }), [
    "a",
    null,
    "b",
  ]);
  assert.equal(resolveFields(undefined, {}), undefined);
});

const names = fc.uniqueArray(fc.constantFrom("a", "b", "c", "d", "e", "f"), {
  minLength: 1,
  maxLength: 5,
});

Deno.test("A resolved map resolves to itself, with or without the header: a resumed run decodes as the first did", () => {
  fc.assert(
    fc.property(
      names,
      fc.array(fc.constantFrom("keep", "skip", "rename", "extra"), {
        minLength: 5,
        maxLength: 5,
      }),
      fc.boolean(),
      (header, how, named) => {
        const kinds = header.map((_, k) => how[k]);
        if (kinds.every((kind) => kind === "skip" || kind === "extra")) return;
        const into = {
          name: "public.t",
          columns: header.filter((_, k) => kinds[k] !== "extra").map((
            name,
          ) => name.toUpperCase()),
        };
        const columns: ColumnEntry[] = header.map((field, k) =>
          named || kinds[k] !== "skip"
            ? {
              field,
              column: kinds[k] === "skip" ? null : field.toUpperCase(),
            }
            : null
        );
        const options = { columns, into, extraColumns: "ignore" as const };
        const map = resolveFields(header, options)!;
        assert.deepEqual(resolveFields(header, { columns: map, into }), map);
        assert.deepEqual(resolveFields(undefined, { columns: map, into }), map);
        assert.deepEqual(
          remapColumns({ header: true, columns: map }, "csv", options),
          map,
        );
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("resolveKeys() maps NDJSON keys, refuses a bare skip, and skips columns the table lacks with extraColumns ignore", () => {
  const into = { name: "public.e", columns: ["id", "nick"] };
  assert.deepEqual(
    resolveKeys({
      columns: ["id", { field: "name", column: "nick" }, "age"],
      into,
      extraColumns: "ignore",
    }),
    ["id", { field: "name", column: "nick" }, { field: "age", column: null }],
  );
  assert.throws(
    () => resolveKeys({ columns: ["id", null] }),
    /key by name with key:-/,
  );
  assert.throws(
    () => resolveKeys({ columns: ["id", "age"], into, source: "e.ndjson" }),
    /Cannot load e\.ndjson into public\.e: the table has no column "age"/,
  );
});
