/**
 * The INSERT batch path, written as a careful user would: csv-parse streams
 * the records, and each batch goes in with one `INSERT … SELECT * FROM
 * unnest($1::type[], …)` statement (one array parameter per column), in its
 * own transaction. This is what lanecopy's COPY path is measured against.
 *
 * @module
 */

import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
// @ts-types="@types/pg"
import type pg from "pg";

/** Quotes an SQL identifier. */
function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Returns the target's column types (no typmod) by column name. */
async function columnTypes(
  client: pg.Client,
  table: string,
): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; type: string }>(
    `select a.attname as name, format_type(a.atttypid, null) as type
       from pg_attribute a
      where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [table],
  );
  return new Map(rows.map((row) => [row.name, row.type]));
}

/**
 * Loads a CSV file with a header line into `table` by batched INSERTs: one
 * `INSERT INTO t (cols) SELECT * FROM unnest($1::bigint[], $2::text[], …)`
 * per batch, each batch in its own transaction (BEGIN/COMMIT). Header names
 * map to the table's columns exactly as written; the array casts come from
 * the catalog. NULL follows PostgreSQL's CSV rule: an unquoted empty field
 * is NULL, a quoted `""` is the empty string.
 *
 * A failing batch is rolled back and the error rethrown; earlier batches
 * stay committed.
 *
 * @param client A connected client, not inside a transaction.
 * @param table The target, already quoted and qualified (`"public"."t"`).
 * @param path The CSV file's path.
 * @param batchSize Rows per INSERT statement and transaction.
 * @returns The number of rows inserted.
 * @throws {RangeError} If `batchSize` is not a positive integer.
 * @throws {SyntaxError} If the header names a column the table lacks.
 *
 * @example Load a small file (needs a server in DATABASE_URL)
 * ```ts
 * import { insertCsvFile } from "./insert_path.ts";
 * import pg from "pg";
 * import assert from "node:assert/strict";
 *
 * const url = Deno.env.get("DATABASE_URL");
 * if (url) {
 *   const path = await Deno.makeTempFile({ suffix: ".csv" });
 *   await Deno.writeTextFile(path, 'id,note\n1,\n2,""\n3,"a, b"\n');
 *   const client = new pg.Client({ connectionString: url });
 *   await client.connect();
 *   await client.query("create temp table doc_t (id bigint, note text)");
 *   assert.equal(await insertCsvFile(client, '"doc_t"', path, 2), 3);
 *   const { rows } = await client.query("select note from doc_t order by id");
 *   assert.deepEqual(rows.map((row) => row.note), [null, "", "a, b"]);
 *   await client.end();
 *   await Deno.remove(path);
 * }
 * ```
 */
export async function insertCsvFile(
  client: pg.Client,
  table: string,
  path: string,
  batchSize: number,
): Promise<number> {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new RangeError(
      `Cannot insert as batchSize must be a positive integer: current value is ${batchSize}`,
    );
  }
  const types = await columnTypes(client, table);
  const parser = parse({
    bom: true,
    // Unquoted empty field = NULL; quoted "" = the empty string.
    cast: (value, context) => value === "" && !context.quoting ? null : value,
  });
  const input = createReadStream(path);
  input.on("error", (error) => parser.destroy(error));
  input.pipe(parser);

  let statement = "";
  let columns: (string | null)[][] = [];
  let pending = 0;
  let inserted = 0;
  const flush = async () => {
    await client.query("BEGIN");
    try {
      const result = await client.query(statement, columns);
      await client.query("COMMIT");
      inserted += result.rowCount ?? 0;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
    columns = columns.map(() => []);
    pending = 0;
  };

  for await (const record of parser as AsyncIterable<(string | null)[]>) {
    if (statement === "") {
      const names = record.map((name) => name ?? "");
      const casts = names.map((name, i) => {
        const type = types.get(name);
        if (type === undefined) {
          throw new SyntaxError(
            `Cannot map header to ${table} as it has no column "${name}"`,
          );
        }
        return `$${i + 1}::${type}[]`;
      });
      statement = `INSERT INTO ${table} (${
        names.map(quoteIdent).join(", ")
      }) SELECT * FROM unnest(${casts.join(", ")})`;
      columns = names.map(() => []);
      continue;
    }
    for (let i = 0; i < record.length; i++) columns[i].push(record[i]);
    if (++pending === batchSize) await flush();
  }
  if (pending > 0) await flush();
  return inserted;
}
