/**
 * The rules `--create` types a column by: one pure function per kind of
 * value, each true only for text that PostgreSQL's input function for that
 * type accepts and that reads back as the same value. They are
 * conservative: a value that could be read two ways (a code with leading
 * zeros, `+44…`, `1/2/2024`, ` 42`) is text.
 *
 * @module
 */

/**
 * The column types `--create` chooses from: PostgreSQL's names, as they
 * go into `CREATE TABLE`.
 *
 * @example Usage
 * ```ts
 * import { type ColumnType, valueType } from "./column_type_rules.ts";
 * import assert from "node:assert/strict";
 *
 * const type: ColumnType = valueType("2024-05-01T10:00:00Z");
 * assert.equal(type, "timestamptz");
 * ```
 */
export type ColumnType =
  | "integer"
  | "bigint"
  | "numeric"
  | "boolean"
  | "date"
  | "timestamp"
  | "timestamptz"
  | "uuid"
  | "jsonb"
  | "text";

/** An integer with no sign but `-` and no leading zero. */
const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;
/** A decimal: an integer part as above, a fraction and/or an exponent. */
const DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([-+]?[0-9]+))?$/;
const INT4_MAX = 2147483647n;
const INT8_MAX = 9223372036854775807n;
/** Digits PostgreSQL's numeric takes before the decimal point. */
const NUMERIC_INTEGER_DIGITS = 131072;
/** Digits PostgreSQL's numeric takes after the decimal point. */
const NUMERIC_FRACTION_DIGITS = 16383;
/** The largest exponent (either sign) taken as numeric: far inside its range. */
const NUMERIC_EXPONENT = 1000;

/**
 * Integers by range: `integer` within int4, `bigint` within int8, else
 * `numeric`. Only plain decimal digits with an optional `-` count: a
 * leading zero (`007`), a `+`, spaces or `_` make the value text.
 *
 * @param value A field's text.
 * @returns The narrowest integer type holding it, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { integerType } from "./column_type_rules.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(integerType("-2147483648"), "integer");
 * assert.equal(integerType("2147483648"), "bigint");
 * assert.equal(integerType("9223372036854775808"), "numeric");
 * assert.equal(integerType("007"), undefined);
 * assert.equal(integerType("+1"), undefined);
 * ```
 */
export function integerType(
  value: string,
): "integer" | "bigint" | "numeric" | undefined {
  if (!INTEGER.test(value)) return undefined;
  const digits = value.length - (value[0] === "-" ? 1 : 0);
  if (digits < 10) return "integer";
  if (digits > 19) {
    return digits <= NUMERIC_INTEGER_DIGITS ? "numeric" : undefined;
  }
  const magnitude = BigInt(value[0] === "-" ? value.slice(1) : value);
  const negative = value[0] === "-" ? 1n : 0n;
  if (magnitude <= INT4_MAX + negative) return "integer";
  if (magnitude <= INT8_MAX + negative) return "bigint";
  return "numeric";
}

/**
 * Decimals: a fraction (`3.14`, `-0.5`), an exponent (`1e400`,
 * `-12.5e-3`, as JSON numbers are written) or both, with an integer part
 * as {@linkcode integerType} takes it (no leading zero, no `+`). A bare
 * `.5` or `5.` is text, and so are `NaN` and `Infinity`.
 *
 * @param value A field's text.
 * @returns Whether it is a decimal (an integer is not).
 *
 * @example Usage
 * ```ts
 * import { isDecimal } from "./column_type_rules.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isDecimal("19.99"));
 * assert.ok(isDecimal("1e400"));
 * assert.ok(!isDecimal("42"));
 * assert.ok(!isDecimal("01.5"));
 * assert.ok(!isDecimal("1,5"));
 * ```
 */
export function isDecimal(value: string): boolean {
  const match = DECIMAL.exec(value);
  if (match === null) return false;
  const [, fraction, exponent] = match;
  if (fraction === undefined && exponent === undefined) return false;
  if (exponent !== undefined) {
    return Math.abs(Number(exponent)) <= NUMERIC_EXPONENT &&
      value.length <= NUMERIC_EXPONENT;
  }
  const integerDigits = value.indexOf(".") - (value[0] === "-" ? 1 : 0);
  return integerDigits <= NUMERIC_INTEGER_DIGITS &&
    fraction.length <= NUMERIC_FRACTION_DIGITS;
}

/**
 * Booleans: `true` or `false`, in any case. Not `t`/`f`, `yes`/`no` or
 * `0`/`1`, which are as often codes or counts.
 *
 * @param value A field's text.
 * @returns Whether it is a boolean.
 *
 * @example Usage
 * ```ts
 * import { isBoolean } from "./column_type_rules.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isBoolean("TRUE"));
 * assert.ok(isBoolean("false"));
 * assert.ok(!isBoolean("1"));
 * assert.ok(!isBoolean("yes"));
 * ```
 */
export function isBoolean(value: string): boolean {
  return /^(?:true|false)$/i.test(value);
}

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
const TIMESTAMP =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]{1,9})?)?(Z|[-+]([0-9]{2})(?::?([0-9]{2}))?)?$/;

/** Whether year-month-day is a day of the (proleptic Gregorian) calendar, year 1 on. */
function isCalendarDay(year: string, month: string, day: string): boolean {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  if (m === 2 && d === 29) {
    return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  }
  return d <= DAYS_IN_MONTH[m - 1];
}

/** Days in each month of a common year. */
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * ISO-8601 calendar dates, `YYYY-MM-DD`, of a day that exists (from year
 * 0001): `2024-02-30` and `01/02/2024` are text.
 *
 * @param value A field's text.
 * @returns Whether it is a date.
 *
 * @example Usage
 * ```ts
 * import { isIsoDate } from "./column_type_rules.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isIsoDate("2024-02-29"));
 * assert.ok(!isIsoDate("2023-02-29"));
 * assert.ok(!isIsoDate("2024-1-5"));
 * ```
 */
export function isIsoDate(value: string): boolean {
  const match = DATE.exec(value);
  return match !== null && isCalendarDay(match[1], match[2], match[3]);
}

/**
 * ISO-8601 timestamps: a date as {@linkcode isIsoDate} takes it, `T` or a
 * space, `HH:MM`, optional `:SS` and up to 9 fraction digits: `timestamp`;
 * with `Z` or an offset (`+02`, `+0530`, `-05:00`, up to 14 hours) it is
 * `timestamptz`.
 *
 * @param value A field's text.
 * @returns Its timestamp type, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { timestampType } from "./column_type_rules.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(timestampType("2024-05-01 12:30:00"), "timestamp");
 * assert.equal(timestampType("2024-05-01T12:30:00.5Z"), "timestamptz");
 * assert.equal(timestampType("2024-05-01T12:30+05:30"), "timestamptz");
 * assert.equal(timestampType("2024-05-01T24:00"), undefined);
 * ```
 */
export function timestampType(
  value: string,
): "timestamp" | "timestamptz" | undefined {
  const match = TIMESTAMP.exec(value);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second, zone, zoneHour, zoneMinute] =
    match;
  if (!isCalendarDay(year, month, day)) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59) return undefined;
  if (second !== undefined && Number(second) > 59) return undefined;
  if (zone === undefined) return "timestamp";
  if (zoneHour !== undefined && Number(zoneHour) > 14) return undefined;
  if (zoneMinute !== undefined && Number(zoneMinute) > 59) return undefined;
  return "timestamptz";
}

/**
 * UUIDs in their usual form: 8-4-4-4-12 hexadecimal digits, any case.
 *
 * @param value A field's text.
 * @returns Whether it is a UUID.
 *
 * @example Usage
 * ```ts
 * import { isUuid } from "./column_type_rules.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isUuid("0b0e4f4c-9a3d-4a4e-8f7e-2c1d3b5a6e7f"));
 * assert.ok(!isUuid("{0b0e4f4c-9a3d-4a4e-8f7e-2c1d3b5a6e7f}"));
 * ```
 */
export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
    .test(value);
}

/** How deep a JSON value may nest and still count as jsonb. */
const JSON_DEPTH = 500;

/**
 * JSON objects and arrays (RFC 8259) that `jsonb` takes: not a bare
 * scalar, no `\u0000` and no lone surrogate escape (jsonb refuses both),
 * numbers that `numeric` takes, and no deeper than 500 levels.
 *
 * @param value A field's text.
 * @returns Whether it is a JSON object or array for jsonb.
 *
 * @example Usage
 * ```ts
 * import { isJsonContainer } from "./column_type_rules.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isJsonContainer('{"a": [1, 2.5, null]}'));
 * assert.ok(isJsonContainer("[]"));
 * assert.ok(!isJsonContainer("42"));
 * assert.ok(!isJsonContainer('{"a": "\\u0000"}'));
 * assert.ok(!isJsonContainer("{a: 1}"));
 * ```
 */
export function isJsonContainer(value: string): boolean {
  const first = value[0];
  if (first !== "{" && first !== "[") return false;
  try {
    JSON.parse(value);
  } catch {
    return false;
  }
  return jsonbTakes(value);
}

const JSON_NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y;

/** Whether jsonb takes JSON text that `JSON.parse` took (see {@linkcode isJsonContainer}). */
function jsonbTakes(json: string): boolean {
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      for (i++; json[i] !== '"'; i++) {
        if (json[i] !== "\\") continue;
        i++;
        if (json[i] !== "u") continue;
        const code = parseInt(json.slice(i + 1, i + 5), 16);
        i += 4;
        if (code === 0 || (code >= 0xdc00 && code <= 0xdfff)) return false;
        if (code >= 0xd800 && code <= 0xdbff) {
          const low = json.slice(i + 1, i + 3) === "\\u"
            ? parseInt(json.slice(i + 3, i + 7), 16)
            : -1;
          if (low < 0xdc00 || low > 0xdfff) return false;
          i += 6;
        }
      }
    } else if (c === "{" || c === "[") {
      if (++depth > JSON_DEPTH) return false;
    } else if (c === "}" || c === "]") {
      depth--;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      JSON_NUMBER.lastIndex = i;
      const number = JSON_NUMBER.exec(json)![0];
      if (integerType(number) === undefined && !isDecimal(number)) {
        return false;
      }
      i += number.length - 1;
    }
  }
  return true;
}

/**
 * The type one value asks for: the first rule that takes it (boolean,
 * integer by range, decimal as numeric, date, timestamp, uuid, JSON object
 * or array), else `text`. The empty string is text.
 *
 * @param value A field's text (not NULL: NULLs do not vote).
 * @returns Its type.
 *
 * @example Usage
 * ```ts
 * import { valueType } from "./column_type_rules.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(valueType("42"), "integer");
 * assert.equal(valueType("0042"), "text");
 * assert.equal(valueType("4.20"), "numeric");
 * assert.equal(valueType("True"), "boolean");
 * assert.equal(valueType("2024-05-01"), "date");
 * assert.equal(valueType("2024-05-01 08:00:00+02"), "timestamptz");
 * assert.equal(valueType('{"a": 1}'), "jsonb");
 * assert.equal(valueType(""), "text");
 * ```
 */
export function valueType(value: string): ColumnType {
  const c = value.charCodeAt(0);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) { // "-" or a digit
    const integer = integerType(value);
    if (integer !== undefined) return integer;
    if (isDecimal(value)) return "numeric";
    if (isIsoDate(value)) return "date";
    const timestamp = timestampType(value);
    if (timestamp !== undefined) return timestamp;
  } else if (c === 0x7b || c === 0x5b) { // "{" or "["
    if (isJsonContainer(value)) return "jsonb";
  } else if (isBoolean(value)) {
    return "boolean";
  }
  return isUuid(value) ? "uuid" : "text";
}
