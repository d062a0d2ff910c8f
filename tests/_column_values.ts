/**
 * Generators of field values for the `--create` type rules: values of each
 * type (and what the rules must call them), and near misses (values shaped
 * like a type that PostgreSQL may or may not take), shared by the rules'
 * unit tests and their check against a real server.
 *
 * @module
 */

import fc from "fast-check";
import type { ColumnType } from "../src/write/column_type_rules.ts";

const INT4 = 2n ** 31n;
const INT8 = 2n ** 63n;

/** `text` in a random mix of upper and lower case. */
function anyCase(text: string): fc.Arbitrary<string> {
  return fc.array(fc.boolean(), {
    minLength: text.length,
    maxLength: text.length,
  }).map((upper) =>
    [...text].map((c, i) => upper[i] ? c.toUpperCase() : c).join("")
  );
}

const digits = (min: number, max: number) =>
  fc.string({
    unit: fc.constantFrom(..."0123456789"),
    minLength: min,
    maxLength: max,
  });

const twoDigits = (max: number) =>
  fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, "0"));

/** A day from year 1 to 9999, as `YYYY-MM-DD`. */
const isoDay = fc.date({
  min: new Date("0001-01-01T00:00:00Z"),
  max: new Date("9999-12-31T00:00:00Z"),
  noInvalidDate: true,
}).map((date) => date.toISOString().slice(0, 10));

/** A time of day, `HH:MM[:SS[.f…]]`. */
const timeOfDay = fc.tuple(
  twoDigits(23),
  twoDigits(59),
  fc.option(fc.tuple(twoDigits(59), fc.option(digits(1, 9)))),
).map(([h, m, s]) =>
  `${h}:${m}${s === null ? "" : `:${s[0]}${s[1] === null ? "" : `.${s[1]}`}`}`
);

/** A zone: `Z`, or an offset of up to 14 hours in one of ISO's forms. */
const zone = fc.oneof(
  fc.constant("Z"),
  fc.tuple(
    fc.constantFrom("+", "-"),
    twoDigits(14),
    fc.constantFrom("", ":", "none"),
    twoDigits(59),
  ).map(([sign, h, sep, m]) => `${sign}${h}${sep === "none" ? "" : sep + m}`),
);

/** Values of each type, as a careful person would type them. */
export const VALUES_OF: Record<ColumnType, fc.Arbitrary<string>> = {
  integer: fc.integer().map(String),
  bigint: fc.bigInt({ min: -INT8, max: INT8 - 1n })
    .filter((n) => n < -INT4 || n >= INT4).map(String),
  numeric: fc.oneof(
    fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n })
      .filter((n) => n < -INT8 || n >= INT8).map(String),
    fc.tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), digits(1, 30))
      .map(([n, f]) => `${n < 0n ? "-" : ""}${n < 0n ? -n : n}.${f}`),
    fc.tuple(
      fc.integer({ min: -999, max: 999 }),
      fc.option(digits(1, 10)),
      fc.constantFrom("e", "E"),
      fc.integer({ min: -1000, max: 1000 }),
    ).map(([n, f, e, x]) => `${n}${f === null ? "" : `.${f}`}${e}${x}`),
  ),
  boolean: fc.constantFrom("true", "false").chain(anyCase),
  date: isoDay,
  timestamp: fc.tuple(isoDay, fc.constantFrom("T", " "), timeOfDay)
    .map(([d, t, time]) => `${d}${t}${time}`),
  timestamptz: fc.tuple(isoDay, fc.constantFrom("T", " "), timeOfDay, zone)
    .map(([d, t, time, z]) => `${d}${t}${time}${z}`),
  uuid: fc.uuid().chain(anyCase),
  jsonb: fc.oneof(
    fc.array(fc.jsonValue({ maxDepth: 3, stringUnit: "grapheme" })),
    fc.dictionary(
      fc.string({ unit: "grapheme" }),
      fc.jsonValue({ maxDepth: 3, stringUnit: "grapheme" }),
    ),
  ).map((value) => JSON.stringify(value))
    .filter((json) => !json.includes("\\u0000")),
  text: fc.oneof(
    // Codes with leading zeros.
    fc.tuple(fc.integer({ min: 1, max: 4 }), digits(1, 12))
      .map(([zeros, rest]) => "0".repeat(zeros) + rest),
    fc.constantFrom(
      "",
      " 1",
      "1 ",
      "+44 20 7946 0000",
      "+1",
      "1,5",
      ".5",
      "5.",
      "1_000",
      "NaN",
      "Infinity",
      "yes",
      "no",
      "t",
      "f",
      "2024-02-30",
      "2024-13-01",
      "0000-01-01",
      "2024-1-5",
      "05/01/2024",
      "2024-05-01T24:00",
      "2024-05-01 10:00+15:00",
      "2024-05-01 10:60",
      "{0b0e4f4c-9a3d-4a4e-8f7e-2c1d3b5a6e7f}",
      "0b0e4f4c9a3d4a4e8f7e2c1d3b5a6e7f",
      "{a: 1}",
      '{"a": "\\u0000"}',
      '["\\ud800"]',
      "[1e1000000]",
      "null",
      "42abc",
    ),
    fc.string().filter((s) => !/^[-0-9{[tTfF]/.test(s) && s.length !== 36),
  ),
};

/**
 * Values shaped like one type or another, most of them slightly wrong: what
 * the rules take of them, PostgreSQL must take too.
 */
export const NEAR_MISSES: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^-?[0-9]{1,25}(\.[0-9]{0,5})?([eE][-+]?[0-9]{1,5})?$/),
  fc.stringMatching(
    /^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,12})?)?(Z|[-+][0-9]{2}(:?[0-9]{2})?)?)?$/,
  ),
  // Fields around their limits: month 13, day 32, hour 24, second 60, …
  fc.tuple(
    fc.integer({ min: 0, max: 9999 }),
    twoDigits(13),
    twoDigits(32),
    fc.option(fc.tuple(twoDigits(25), twoDigits(61), twoDigits(61))),
    fc.option(
      fc.tuple(fc.constantFrom("+", "-"), twoDigits(16), twoDigits(61)),
    ),
  ).map(([y, mo, d, time, z]) =>
    `${String(y).padStart(4, "0")}-${mo}-${d}${
      time === null ? "" : ` ${time.join(":")}${z === null ? "" : z.join("")}`
    }`
  ),
  fc.stringMatching(/^[0-9a-fA-F-]{36}$/),
  fc.stringMatching(/^[tTrRuUeEfFaAlLsS]{4,5}$/),
  fc.json({ maxDepth: 2 }),
  fc.string(),
);

/** Any value: one of a type, or a near miss. */
export const ANY_VALUE: fc.Arbitrary<string> = fc.oneof(
  ...Object.values(VALUES_OF),
  NEAR_MISSES,
);
