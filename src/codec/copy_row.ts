/**
 * PostgreSQL's two COPY data formats, one row at a time: the reference the
 * codec's bulk loop is tested against, and the reader for header rows.
 *
 * - `text`: fields separated by tab, `\N` for NULL, backslash escapes for
 *   backslash, tab, line feed and carriage return.
 * - `csv`: fields separated by comma, an unquoted empty field for NULL,
 *   every other field quoted with `"` and inner quotes doubled (so an empty
 *   string and a field that is exactly `\.` are never misread).
 *
 * @module
 */

/** Which COPY data format a stream of rows is in. */
export type CopyFormat = "text" | "csv";

/**
 * Encodes one row in a COPY format, ending in a line feed.
 *
 * @param fields The row's values; `null` is SQL NULL.
 * @param format The COPY format.
 * @returns The row's text.
 *
 * @example Usage
 * ```ts
 * import { encodeCopyRow } from "./copy_row.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(encodeCopyRow(["a\tb", null, ""], "text"), "a\\tb\t\\N\t\n");
 * assert.equal(encodeCopyRow(['say "hi"', null, ""], "csv"), '"say ""hi""",,""\n');
 * ```
 */
export function encodeCopyRow(
  fields: readonly (string | null)[],
  format: CopyFormat,
): string {
  if (format === "csv") {
    return fields.map((field) =>
      field === null ? "" : `"${field.replaceAll('"', '""')}"`
    ).join(",") + "\n";
  }
  return fields.map((field) =>
    field === null
      ? "\\N"
      : field.replace(/[\\\t\n\r]/g, (c) => TEXT_ESCAPES[c])
  ).join("\t") + "\n";
}

const TEXT_ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  "\t": "\\t",
  "\n": "\\n",
  "\r": "\\r",
};

const TEXT_UNESCAPES: Record<string, string> = {
  "\\": "\\",
  t: "\t",
  n: "\n",
  r: "\r",
  b: "\b",
  f: "\f",
  v: "\v",
};

/**
 * Decodes one COPY row (without its line feed) into its values.
 *
 * @param row The row's text, without the trailing line feed.
 * @param format The COPY format.
 * @returns The row's values; `null` is SQL NULL.
 *
 * @example Usage
 * ```ts
 * import { decodeCopyRow } from "./copy_row.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeCopyRow("a\\tb\t\\N\t", "text"), ["a\tb", null, ""]);
 * assert.deepEqual(decodeCopyRow('"x,""y""",,""', "csv"), ['x,"y"', null, ""]);
 * ```
 */
export function decodeCopyRow(
  row: string,
  format: CopyFormat,
): (string | null)[] {
  return format === "csv" ? decodeCsvRow(row) : decodeTextRow(row);
}

function decodeTextRow(row: string): (string | null)[] {
  return row.split("\t").map((field) =>
    field === "\\N"
      ? null
      : field.replace(/\\(.)/gs, (_, c: string) => TEXT_UNESCAPES[c] ?? c)
  );
}

function decodeCsvRow(row: string): (string | null)[] {
  const fields: (string | null)[] = [];
  let i = 0;
  while (i <= row.length) {
    if (row[i] === '"') {
      let value = "";
      i++;
      while (i < row.length) {
        if (row[i] === '"') {
          if (row[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += row[i++];
      }
      fields.push(value);
    } else {
      const end = row.indexOf(",", i);
      const raw = row.slice(i, end === -1 ? row.length : end);
      fields.push(raw === "" ? null : raw);
      i += raw.length;
    }
    i++; // the comma, or past the end
  }
  return fields;
}
