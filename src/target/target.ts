/**
 * Where rows go: the interface both databases implement (a server in
 * `postgres_target.ts`, PGlite in `embedded_target.ts`); `open_target.ts`
 * picks one.
 *
 * @module
 */

import type { CopyFormat } from "../codec/copy_row.ts";
import {
  quoteIdentifier,
  quoteTableName,
  type TableName,
} from "./table_name.ts";

/**
 * Rows and column names of a query's result.
 *
 * @example Usage
 * ```ts
 * import { openTarget, type QueryResult } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * const result: QueryResult = await target.query("select 1 as one, 'x' as two");
 * assert.deepEqual(result.fields, ["one", "two"]);
 * assert.deepEqual(result.rows, [{ one: 1, two: "x" }]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface QueryResult {
  /** The rows, keyed by column name. */
  rows: Record<string, unknown>[];
  /** The column names, in order. */
  fields: string[];
}

/**
 * What a COPY writes into: the table, its columns in data order, the format.
 *
 * @example COPY two rows in text format
 * ```ts
 * import { type CopySpec, openTarget } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await target.query("create table t (a int, b text)");
 * const spec: CopySpec = {
 *   table: { schema: "public", table: "t" },
 *   columns: ["a", "b"],
 *   format: "text",
 * };
 * const rows = await target.copyFrom(spec, new TextEncoder().encode("1\tx\n2\t\\N\n"));
 * assert.equal(rows, 2);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface CopySpec {
  /** The target table. */
  table: TableName;
  /** Target columns in the order the data has them. */
  columns: readonly string[];
  /** The COPY data format: the codec's (`text`, `csv`), or `binary`. */
  format: CopyFormat | "binary";
  /**
   * The data's encoding, PostgreSQL's name. Default: the connection's,
   * UTF-8. A text COPY passes it as COPY's `ENCODING` option; binary COPY
   * has none (the server converts binary text fields from the session's
   * `client_encoding`), so a server sets `client_encoding` to it for the
   * COPY, within the COPY's transaction.
   */
  encoding?: string;
}

/**
 * A connection that runs statements and COPYs: what a {@linkcode Target}
 * hands to the work of a transaction.
 *
 * @example Statements inside one transaction
 * ```ts
 * import { openTarget, type Session } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * await target.query("create table t (a int)");
 * await target.transaction(async (session: Session) => {
 *   await session.query("insert into t values ($1), ($2)", [1, 2]);
 * });
 * const { rows } = await target.query("select count(*)::int as n from t");
 * assert.equal(rows[0].n, 2);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface Session {
  /**
   * Runs one statement with `$1`-style parameters.
   *
   * @param sql The statement.
   * @param params Its parameter values.
   */
  query(sql: string, params?: unknown[]): Promise<QueryResult>;
  /**
   * COPYs `data` (whole rows in `spec.format`) into `spec.table`.
   *
   * @param spec Table, columns and format.
   * @param data The rows' bytes, at once or as chunks made as they are sent.
   * @returns The number of rows the server stored.
   */
  copyFrom(
    spec: CopySpec,
    data: Uint8Array | Iterable<Uint8Array>,
  ): Promise<number>;
}

/** Callbacks at points of a transaction's life. */
export interface TransactionHooks {
  /** The work is done and COMMIT is on its way; its outcome is not known yet. */
  onCommitSent?: () => void;
}

/**
 * A database rows can be loaded into: a server (`kind` `postgres`) or the
 * embedded PGlite database (`embedded`). {@linkcode openTarget} opens one;
 * `ingest` takes one as `target` to load into an open connection.
 *
 * @example A transaction that throws leaves nothing behind
 * ```ts
 * import { openTarget, type Target } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target: Target = await openTarget({ dataDir });
 * assert.equal(target.kind, "embedded");
 * await target.query("create table t (a int)");
 * await assert.rejects(target.transaction(async (session) => {
 *   await session.query("insert into t values (1)");
 *   throw new Error("changed my mind");
 * }));
 * const { rows } = await target.query("select count(*)::int as n from t");
 * assert.equal(rows[0].n, 0);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface Target extends Session {
  /** `postgres` for a server, `embedded` for PGlite. */
  readonly kind: "postgres" | "embedded";
  /**
   * Where, for messages and summaries: a server's `user@host:port/database`
   * (never the password), or the embedded database's directory.
   */
  readonly description: string;
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back
   * when it throws.
   *
   * @param work What to do inside the transaction.
   * @param hooks Called at points of the transaction's life.
   */
  transaction<T>(
    work: (session: Session) => Promise<T>,
    hooks?: TransactionHooks,
  ): Promise<T>;
  /** Closes the connection. Safe to call twice. */
  close(): Promise<void>;
  /** Whether the connection failed (a server only: see `reconnect`). */
  readonly lost?: boolean;
  /**
   * Opens a new connection in place of a failed one (a server only).
   * Session state, such as advisory locks, does not carry over.
   */
  reconnect?(): Promise<void>;
  /**
   * Opens a second connection to the same database (a server only), with
   * no session state of this one's.
   */
  fork?(): Promise<Target>;
}

/**
 * The COPY statement for a spec, reading from `from` (`STDIN`, or a
 * quoted file name for PGlite's `/dev/blob`).
 *
 * @param spec Table, columns and format.
 * @param from What follows `FROM`.
 * @returns The statement.
 *
 * @example Usage
 * ```ts
 * import { copyStatement } from "./target.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   copyStatement({ table: { schema: "public", table: "t" }, columns: ["a"], format: "csv" }, "STDIN"),
 *   'COPY "public"."t" ("a") FROM STDIN (FORMAT csv)',
 * );
 * assert.equal(
 *   copyStatement({ table: { schema: "s", table: "t" }, columns: ["a"], format: "text", encoding: "LATIN1" }, "STDIN"),
 *   `COPY "s"."t" ("a") FROM STDIN (FORMAT text, ENCODING 'LATIN1')`,
 * );
 * ```
 */
export function copyStatement(spec: CopySpec, from: string): string {
  const columns = spec.columns.map(quoteIdentifier).join(", ");
  const encoding = spec.encoding === undefined || spec.format === "binary"
    ? ""
    : `, ENCODING '${spec.encoding.replaceAll("'", "''")}'`;
  return `COPY ${
    quoteTableName(spec.table)
  } (${columns}) FROM ${from} (FORMAT ${spec.format}${encoding})`;
}
