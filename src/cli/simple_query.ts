/**
 * `sql`'s way of running a string: PostgreSQL's simple query protocol, so
 * one string may hold several statements (`create …; insert …; select …`),
 * and each statement's command tag (`INSERT 0 3`, `CREATE TABLE`) and rows
 * come back as the server's text, on a server and on the embedded database
 * alike.
 *
 * @module
 */

import type { EmbeddedTarget } from "../target/embedded_target.ts";
import type { PostgresTarget } from "../target/postgres_target.ts";
import type { Target } from "../target/target.ts";

/**
 * A result column: its name and its type's OID.
 *
 * @example Usage
 * ```ts
 * import type { ResultColumn } from "./simple_query.ts";
 * import { jsonFromText } from "./json_output.ts";
 * import assert from "node:assert/strict";
 *
 * const column: ResultColumn = { name: "n", typeId: 20 }; // int8
 * assert.equal(jsonFromText("7", column.typeId), 7);
 * ```
 */
export interface ResultColumn {
  /** The column's name. */
  name: string;
  /** The OID of its type (`pg_type.oid`): `20` for `int8`, `25` for `text`, … */
  typeId: number;
}

/**
 * What one statement of the string gave back.
 *
 * @example A statement with rows and one without
 * ```ts
 * import { runStatements, type StatementResult } from "./simple_query.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * const [created, selected]: StatementResult[] = await runStatements(
 *   target,
 *   "create table t (a int); select 1 as one",
 * );
 * assert.deepEqual(created, { tag: "CREATE TABLE", rows: [] });
 * assert.deepEqual(selected.columns, [{ name: "one", typeId: 23 }]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface StatementResult {
  /** The command tag: `SELECT 2`, `INSERT 0 3`, `CREATE TABLE`, … */
  tag: string;
  /** The result's columns; absent when the statement returns no rows. */
  columns?: ResultColumn[];
  /** The rows, each value its text as the server sent it, or `null` for NULL. */
  rows: (string | null)[][];
}

/** A backend message as pg-protocol parses it (pg and PGlite share it). */
interface BackendMessage {
  name: string;
  /** RowDescription: the columns; DataRow: the values. */
  fields?: unknown[];
  /** CommandComplete: the tag. */
  text?: string;
}

/** The messages a result is read from. */
const RESULT_MESSAGES = [
  "rowDescription",
  "dataRow",
  "commandComplete",
] as const;

/**
 * Runs `sql`, which may hold several statements separated by `;`, with the
 * simple query protocol: like `psql -c`, the statements run in one
 * transaction unless the string itself has `BEGIN`/`COMMIT`, so an error
 * undoes the ones before it. Notices (`NOTICE: … skipping`) go to
 * `onNotice`.
 *
 * @param target An open database.
 * @param sql The statements.
 * @param onNotice Called with each notice's message.
 * @returns One result per statement, in order (none for an empty string).
 * @throws The database's error for the first statement that fails.
 *
 * @example Usage
 * ```ts
 * import { runStatements } from "./simple_query.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * const results = await runStatements(
 *   target,
 *   "create table t (a int8, b text); insert into t values (1, null), (2, ''); select * from t",
 * );
 * assert.deepEqual(results.map((result) => result.tag), ["CREATE TABLE", "INSERT 0 2", "SELECT 2"]);
 * assert.deepEqual(results[2].rows, [["1", null], ["2", ""]]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function runStatements(
  target: Target,
  sql: string,
  onNotice: (message: string) => void = () => {},
): Promise<StatementResult[]> {
  const messages = target.kind === "postgres"
    ? await serverMessages(target as PostgresTarget, sql, onNotice)
    : await embeddedMessages(target as EmbeddedTarget, sql, onNotice);
  return statementResults(messages);
}

/** The result messages of `sql` run on a server by `pg`. */
async function serverMessages(
  target: PostgresTarget,
  sql: string,
  onNotice: (message: string) => void,
): Promise<BackendMessage[]> {
  const client = target.client;
  const messages: BackendMessage[] = [];
  const collect = (message: BackendMessage) => messages.push(message);
  const notice = (message: { message?: string }) =>
    onNotice(message.message ?? "");
  for (const name of RESULT_MESSAGES) client.connection.on(name, collect);
  client.on("notice", notice);
  try {
    // No parameters: pg sends a simple Query. Values stay text (they are
    // read from the messages; pg's own parsing of them is not used).
    await client.query({
      text: sql,
      rowMode: "array",
      types: { getTypeParser: () => (value: string) => value },
    });
  } finally {
    for (const name of RESULT_MESSAGES) client.connection.off(name, collect);
    client.off("notice", notice);
  }
  return messages;
}

/** The result messages of `sql` run on PGlite, as a simple Query message. */
async function embeddedMessages(
  target: EmbeddedTarget,
  sql: string,
  onNotice: (message: string) => void,
): Promise<BackendMessage[]> {
  const { messages } = await target.pglite.execProtocol(queryMessage(sql), {
    onNotice: (notice) => onNotice(notice.message ?? ""),
  });
  return messages as BackendMessage[];
}

/** The protocol's Query message: `Q`, its length, the text and a NUL. */
function queryMessage(sql: string): Uint8Array {
  const text = new TextEncoder().encode(sql);
  const message = new Uint8Array(text.length + 6);
  message[0] = 0x51; // Q
  new DataView(message.buffer).setInt32(1, text.length + 5);
  message.set(text, 5);
  return message;
}

/** The statements' results, read from their messages in order. */
function statementResults(
  messages: readonly BackendMessage[],
): StatementResult[] {
  const results: StatementResult[] = [];
  let current: StatementResult = { tag: "", rows: [] };
  for (const message of messages) {
    if (message.name === "rowDescription") {
      current.columns =
        (message.fields as { name: string; dataTypeID: number }[])
          .map((field) => ({ name: field.name, typeId: field.dataTypeID }));
    } else if (message.name === "dataRow") {
      current.rows.push(message.fields as (string | null)[]);
    } else if (message.name === "commandComplete") {
      current.tag = message.text ?? "";
      results.push(current);
      current = { tag: "", rows: [] };
    }
  }
  return results;
}
