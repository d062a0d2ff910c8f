/**
 * The one place the command's `--json` output takes its types from, so a
 * server and the embedded database print the same JSON for the same data:
 * integers as numbers while they are safe (within ±(2^53 − 1)), else as
 * strings; `numeric` as a string (its digits exact); timestamps as ISO 8601
 * strings; `json` and `jsonb` as JSON values; and a failed run as one
 * `{"error": …}` object.
 *
 * @module
 */

import { exitCodeFor } from "../errors.ts";
import { redact } from "../target/redact.ts";

/**
 * A value JSON can hold.
 *
 * @example Usage
 * ```ts
 * import { type JsonValue, jsonValue } from "./json_output.ts";
 * import assert from "node:assert/strict";
 *
 * const value: JsonValue = jsonValue({ rows: 3n });
 * assert.equal(JSON.stringify(value), '{"rows":3}');
 * ```
 */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Type OIDs whose text is an integer. */
const INTEGERS = new Set([20, 21, 23, 26, 28, 29]); // int8, int2, int4, oid, xid, cid
/** Type OIDs whose text is a floating-point number. */
const FLOATS = new Set([700, 701]); // float4, float8
const BOOL = 16;
const JSON_TYPES = new Set([114, 3802]); // json, jsonb
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;

/** Array type OIDs and their element types' OIDs (one-dimensional or not). */
const ARRAY_ELEMENTS = new Map<number, number>([
  [1000, BOOL],
  [1005, 21],
  [1007, 23],
  [1016, 20],
  [1028, 26],
  [1021, 700],
  [1022, 701],
  [1231, 1700], // numeric[]
  [199, 114],
  [3807, 3802],
  [1115, TIMESTAMP],
  [1185, TIMESTAMPTZ],
  [1182, 1082], // date[]
  [1009, 25], // text[]
  [1015, 1043], // varchar[]
  [1014, 1042], // bpchar[]
  [2951, 2950], // uuid[]
]);

/**
 * A column's value, as the server sent it in text format, as JSON: by its
 * type's OID, an integer is a number while it is safe and else a string;
 * `float4`/`float8` numbers (`NaN` and the infinities stay strings); `bool`
 * `true`/`false`; `json`/`jsonb` their value; `timestamptz` an ISO 8601
 * string in UTC (`2024-05-01T10:00:00.123456Z`, every digit of the
 * fraction kept), `timestamp` the same without a zone; arrays of those
 * types arrays; anything else (`numeric`, `date`, `interval`, `bytea`,
 * `uuid`, text) the server's text.
 *
 * @param text The value's text, or `null` for NULL.
 * @param typeId The column type's OID.
 * @returns The JSON value.
 *
 * @example Usage
 * ```ts
 * import { jsonFromText } from "./json_output.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(jsonFromText("42", 20), 42);
 * assert.equal(jsonFromText("9007199254740993", 20), "9007199254740993");
 * assert.equal(jsonFromText("1.50", 1700), "1.50");
 * assert.equal(jsonFromText("2024-05-01 12:00:00.5+02", 1184), "2024-05-01T10:00:00.5Z");
 * assert.deepEqual(jsonFromText('{"a": [1, 2]}', 3802), { a: [1, 2] });
 * assert.deepEqual(jsonFromText("{1,NULL,3}", 1007), [1, null, 3]);
 * assert.equal(jsonFromText(null, 25), null);
 * ```
 */
export function jsonFromText(text: string | null, typeId: number): JsonValue {
  if (text === null) return null;
  if (INTEGERS.has(typeId)) return integer(text);
  if (FLOATS.has(typeId)) {
    const number = Number(text);
    return Number.isFinite(number) ? number : text;
  }
  if (typeId === BOOL) return text === "t";
  if (JSON_TYPES.has(typeId)) return JSON.parse(text);
  if (typeId === TIMESTAMPTZ) return isoTimestamp(text, true);
  if (typeId === TIMESTAMP) return isoTimestamp(text, false);
  const element = ARRAY_ELEMENTS.get(typeId);
  if (element !== undefined) {
    const array = parseArrayLiteral(text);
    if (array !== undefined) return mapArray(array, element);
  }
  return text;
}

/**
 * A JavaScript value as JSON, with the same rules as
 * {@linkcode jsonFromText}: a `bigint` (or a number) that is a safe integer
 * is a number and else a string, a `Date` an ISO 8601 string, bytes `\x`
 * and hex digits (as PostgreSQL writes `bytea`), a number that is not
 * finite a string; arrays and objects are converted throughout.
 *
 * @param value The value.
 * @returns The JSON value.
 *
 * @example Usage
 * ```ts
 * import { jsonValue } from "./json_output.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   jsonValue({ n: 7n, big: 2n ** 60n, at: new Date(0), bytes: new Uint8Array([1, 255]) }),
 *   { n: 7, big: "1152921504606846976", at: "1970-01-01T00:00:00.000Z", bytes: "\\x01ff" },
 * );
 * ```
 */
export function jsonValue(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") {
    return Number.isSafeInteger(Number(value)) &&
        BigInt(Number(value)) === value
      ? Number(value)
      : value.toString();
  }
  if (typeof value === "number") {
    return Number.isFinite(value) ? value : String(value);
  }
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? null : value.toISOString();
  }
  if (value instanceof Uint8Array) {
    return `\\x${
      Array.from(value, (byte) => byte.toString(16).padStart(2, "0")).join("")
    }`;
  }
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).filter(([, v]) => v !== undefined)
        .map(([key, v]) => [key, jsonValue(v)]),
    );
  }
  return String(value);
}

/**
 * What a failed run prints on stdout with `--json`: `{"error": {"message",
 * "code"}}`, `code` being the exit code, plus where the problem is when
 * that is known: `file`, `line` and `column` (1-based; the column counts
 * characters), `columnName` (the target column the server named) and
 * `sqlstate` (the server's error code). Secrets are masked in the message
 * as they are on stderr.
 *
 * @param error What was thrown.
 * @param secrets Strings the message must not show.
 * @returns The object to print.
 *
 * @example Usage
 * ```ts
 * import { errorJson } from "./json_output.ts";
 * import { InputSyntaxError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new InputSyntaxError("Cannot parse record: expected 2 fields, found 1", {
 *   source: "orders.csv", line: 5, column: 2, offset: 40,
 * });
 * assert.deepEqual(errorJson(error), {
 *   error: {
 *     message: "orders.csv:5:2: Cannot parse record: expected 2 fields, found 1",
 *     code: 2,
 *     file: "orders.csv",
 *     line: 5,
 *     column: 2,
 *   },
 * });
 * ```
 */
export function errorJson(
  error: unknown,
  secrets: string[] = [],
): { error: { [key: string]: JsonValue } } {
  const message = error instanceof Error ? error.message : String(error);
  const fields = (error ?? {}) as Record<string, unknown>;
  const out: { [key: string]: JsonValue } = {
    message: redact(message, secrets),
    code: exitCodeFor(error),
  };
  if (typeof fields.source === "string") out.file = fields.source;
  if (typeof fields.line === "number") out.line = fields.line;
  if (typeof fields.column === "number") out.column = fields.column;
  if (typeof fields.columnName === "string") {
    out.columnName = fields.columnName;
  }
  if (
    typeof fields.code === "string" && /^(?=.*\d)[0-9A-Z]{5}$/.test(fields.code)
  ) {
    out.sqlstate = fields.code;
  }
  return { error: out };
}

/** An integer's text as a number while it is safe, else as the text. */
function integer(text: string): JsonValue {
  const number = Number(text);
  return Number.isSafeInteger(number) ? number : text;
}

/**
 * PostgreSQL's ISO timestamp text as ISO 8601, in UTC when it has a zone;
 * the text unchanged when it is not in that style (`infinity`, BC dates,
 * another DateStyle, years past 9999).
 */
function isoTimestamp(text: string, zoned: boolean): string {
  const match =
    /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?(?:([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?)?$/
      .exec(text);
  if (!match) return text;
  const [, y, mo, d, h, mi, s, fraction = "", sign, oh, om, os] = match;
  if (!zoned || sign === undefined) {
    return `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction}`;
  }
  const offset = (Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0)) *
    (sign === "-" ? -1 : 1);
  const utc = new Date(0);
  utc.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  utc.setUTCHours(Number(h), Number(mi), Number(s) - offset, 0);
  const iso = utc.toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  if (!/^\d{4}-/.test(iso)) return text;
  return `${iso.slice(0, 19)}${fraction}Z`;
}

/** A nested array of element texts (or NULLs). */
type TextArray = (string | null | TextArray)[];

/**
 * An array literal (`{1,2}`, `{{a,"b c"},{NULL,"NULL"}}`) as nested arrays
 * of element texts; `undefined` when it is not one this reads (explicit
 * bounds such as `[0:1]={…}`).
 */
function parseArrayLiteral(text: string): TextArray | undefined {
  let at = 0;
  const parse = (): TextArray | undefined => {
    if (text[at] !== "{") return undefined;
    at++;
    const items: TextArray = [];
    if (text[at] === "}") {
      at++;
      return items;
    }
    while (at < text.length) {
      if (text[at] === "{") {
        const inner = parse();
        if (inner === undefined) return undefined;
        items.push(inner);
      } else if (text[at] === '"') {
        let value = "";
        at++;
        while (at < text.length && text[at] !== '"') {
          if (text[at] === "\\") at++;
          value += text[at++];
        }
        at++;
        items.push(value);
      } else {
        const end = text.slice(at).search(/[,}]/);
        if (end < 0) return undefined;
        const word = text.slice(at, at + end).trim();
        items.push(word === "NULL" ? null : word);
        at += end;
      }
      if (text[at] === ",") at++;
      else if (text[at] === "}") {
        at++;
        return items;
      } else return undefined;
    }
    return undefined;
  };
  const array = parse();
  return array !== undefined && at === text.length ? array : undefined;
}

/** Each element text of a (nested) array as JSON, by the element type. */
function mapArray(array: TextArray, element: number): JsonValue[] {
  return array.map((item) =>
    Array.isArray(item) ? mapArray(item, element) : jsonFromText(item, element)
  );
}
