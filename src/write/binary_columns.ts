/**
 * Which binary encoder each column of a COPY takes, read from the catalog
 * once per run: a column's type (a domain resolved to its base type) is
 * known by its binary input function. A column of any other type (arrays,
 * enums, intervals, extension types) keeps the load in text.
 *
 * @module
 */

import {
  TYPE_BOOL,
  TYPE_BYTEA,
  TYPE_DATE,
  TYPE_FLOAT4,
  TYPE_FLOAT8,
  TYPE_INT2,
  TYPE_INT4,
  TYPE_INT8,
  TYPE_JSON,
  TYPE_JSONB,
  TYPE_NUMERIC,
  TYPE_TEXT,
  TYPE_TIMESTAMP,
  TYPE_TIMESTAMPTZ,
  TYPE_UUID,
} from "../codec/binary/_binary_constants.ts";
import { quoteTableName, type TableName } from "../target/table_name.ts";
import type { Session } from "../target/target.ts";

/** The encoder of each binary input function lanecopy can feed. */
const ENCODERS: Readonly<Record<string, number>> = {
  int2recv: TYPE_INT2,
  int4recv: TYPE_INT4,
  int8recv: TYPE_INT8,
  numeric_recv: TYPE_NUMERIC,
  float4recv: TYPE_FLOAT4,
  float8recv: TYPE_FLOAT8,
  boolrecv: TYPE_BOOL,
  textrecv: TYPE_TEXT,
  varcharrecv: TYPE_TEXT,
  bpcharrecv: TYPE_TEXT,
  citextrecv: TYPE_TEXT,
  json_recv: TYPE_JSON,
  jsonb_recv: TYPE_JSONB,
  bytearecv: TYPE_BYTEA,
  date_recv: TYPE_DATE,
  timestamp_recv: TYPE_TIMESTAMP,
  timestamptz_recv: TYPE_TIMESTAMPTZ,
  uuid_recv: TYPE_UUID,
};

/** Time zones that are UTC at every instant, as `SHOW TimeZone` names them. */
const UTC_ZONES = new Set([
  "utc",
  "etc/utc",
  "uct",
  "etc/uct",
  "gmt",
  "etc/gmt",
  "gmt0",
  "etc/gmt0",
  "gmt+0",
  "etc/gmt+0",
  "gmt-0",
  "etc/gmt-0",
  "greenwich",
  "etc/greenwich",
  "universal",
  "etc/universal",
  "zulu",
  "etc/zulu",
]);

/** How a table's COPY columns go in binary, or why they cannot. */
export type BinaryColumns =
  | {
    /** Each column's encoder (see `_binary_constants.ts`). */
    types: Uint8Array;
    /** The session's TimeZone is UTC: a timestamptz without an offset means UTC. */
    naiveUtc: boolean;
  }
  | {
    /** The first column without an encoder. */
    column: string;
    /** Its type, as the catalog names it. */
    type: string;
  };

/**
 * Each column's binary encoder, or the first column that has none. The
 * seq column (the last, when `seqColumn` is given) must be `bigint`: the
 * seq goes as an int8.
 *
 * @param session An open database (the run's connection: its TimeZone).
 * @param table The table the rows are COPYed into.
 * @param columns The COPY's columns, in order.
 * @param seqColumn The seq column, when the rows carry seqs (the last of `columns`).
 * @returns The encoders, or the column that keeps the load in text.
 *
 * @example Usage
 * ```ts
 * import { binaryColumns } from "./binary_columns.ts";
 * import { TYPE_INT4, TYPE_TEXT } from "../codec/binary/_binary_constants.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await target.query("create domain positive as int check (value > 0)");
 * await target.query("create table t (a positive, b varchar(10), c interval)");
 * const table = { schema: "public", table: "t" };
 * const both = await binaryColumns(target, table, ["a", "b"]);
 * assert.ok("types" in both);
 * assert.deepEqual([...both.types], [TYPE_INT4, TYPE_TEXT]);
 * assert.deepEqual(await binaryColumns(target, table, ["a", "c"]), { column: "c", type: "interval" });
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function binaryColumns(
  session: Session,
  table: TableName,
  columns: readonly string[],
  seqColumn?: string,
): Promise<BinaryColumns> {
  const { rows } = await session.query(
    `WITH RECURSIVE types (name, type_oid, depth) AS (
       SELECT a.attname::text, a.atttypid, 0
         FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0
          AND NOT a.attisdropped
       UNION ALL
       SELECT types.name, t.typbasetype, types.depth + 1
         FROM types JOIN pg_catalog.pg_type t ON t.oid = types.type_oid
        WHERE t.typtype = 'd')
     SELECT DISTINCT ON (types.name) types.name,
            t.typreceive::text AS receive,
            pg_catalog.format_type(t.oid, NULL) AS type
       FROM types JOIN pg_catalog.pg_type t ON t.oid = types.type_oid
      ORDER BY types.name, types.depth DESC`,
    [quoteTableName(table)],
  );
  const byName = new Map(rows.map((row) => [row.name as string, row]));
  const types = new Uint8Array(columns.length);
  for (const [i, column] of columns.entries()) {
    const row = byName.get(column);
    const receive = row?.receive as string | undefined;
    const code = receive === undefined ? undefined : ENCODERS[receive];
    const isSeq = seqColumn !== undefined && i === columns.length - 1;
    if (code === undefined || (isSeq && code !== TYPE_INT8)) {
      return { column, type: (row?.type as string | undefined) ?? "unknown" };
    }
    types[i] = code;
  }
  const { rows: zone } = await session.query(
    "SELECT current_setting('TimeZone') AS zone",
  );
  return {
    types: seqColumn === undefined ? types : types.subarray(0, -1),
    naiveUtc: UTC_ZONES.has(String(zone[0].zone).toLowerCase()),
  };
}
