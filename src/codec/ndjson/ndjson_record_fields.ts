/**
 * One NDJSON record's fields as the codec would load them, read without
 * knowing the columns: for `--create`, which learns the columns from the
 * keys and their types from the values.
 *
 * @module
 */

/**
 * The fields of one NDJSON line, in the order its keys are written, each
 * value as the NDJSON codec loads it: a string's unescaped text; a
 * number, `true`, `false`, an object or an array as its JSON text, byte for
 * byte; `null` as NULL. `undefined` for a line the codec would refuse (not
 * JSON, not an object, a key given twice) or a blank one.
 *
 * @param line One line, without its line feed (a CR before it is blank).
 * @returns The fields by key, in key order, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { ndjsonRecordFields } from "./ndjson_record_fields.ts";
 * import assert from "node:assert/strict";
 *
 * const fields = ndjsonRecordFields(
 *   '{"id": 1e400, "note": "caf\\u00e9", "doc": {"a": [1]}, "gone": null}\r',
 * );
 * assert.deepEqual([...fields!], [
 *   ["id", "1e400"],
 *   ["note", "café"],
 *   ["doc", '{"a": [1]}'],
 *   ["gone", null],
 * ]);
 * assert.equal(ndjsonRecordFields("[1, 2]"), undefined);
 * assert.equal(ndjsonRecordFields('{"a": 1, "a": 2}'), undefined);
 * ```
 */
export function ndjsonRecordFields(
  line: string,
): Map<string, string | null> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return undefined;
  }
  // The line is a JSON object: walk it for each key's original text.
  const fields = new Map<string, string | null>();
  let i = skipBlank(line, line.indexOf("{") + 1);
  while (line[i] !== "}") {
    const keyEnd = stringEnd(line, i);
    const key = unescape(line.slice(i, keyEnd));
    i = skipBlank(line, skipBlank(line, keyEnd) + 1); // past the colon
    const end = valueEnd(line, i);
    const raw = line.slice(i, end);
    if (fields.has(key)) return undefined;
    fields.set(
      key,
      raw[0] === '"' ? unescape(raw) : raw === "null" ? null : raw,
    );
    i = skipBlank(line, end);
    if (line[i] === ",") i = skipBlank(line, i + 1);
  }
  return fields;
}

/** The index of the first non-blank (JSON whitespace) character at or after `i`. */
function skipBlank(line: string, i: number): number {
  while (
    line[i] === " " || line[i] === "\t" || line[i] === "\r" || line[i] === "\n"
  ) i++;
  return i;
}

/** The index just after the string starting at `i` (its opening quote). */
function stringEnd(line: string, i: number): number {
  for (i++; line[i] !== '"'; i++) {
    if (line[i] === "\\") i++;
  }
  return i + 1;
}

/** The index just after the JSON value starting at `i`. */
function valueEnd(line: string, i: number): number {
  const c = line[i];
  if (c === '"') return stringEnd(line, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    for (; i < line.length; i++) {
      const d = line[i];
      if (d === '"') i = stringEnd(line, i) - 1;
      else if (d === "{" || d === "[") depth++;
      else if ((d === "}" || d === "]") && --depth === 0) return i + 1;
    }
    return i;
  }
  while (
    i < line.length && line[i] !== "," && line[i] !== "}" &&
    skipBlank(line, i) === i
  ) i++;
  return i;
}

/** A JSON string token's text. */
function unescape(token: string): string {
  return token.includes("\\") ? JSON.parse(token) : token.slice(1, -1);
}
