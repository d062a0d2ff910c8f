/**
 * The embedded database: PGlite, persisted in a directory, COPY through
 * `COPY … FROM '/dev/blob'`.
 *
 * @module
 */

import { PGlite, type Transaction } from "@electric-sql/pglite";
import {
  type CopySpec,
  copyStatement,
  type QueryResult,
  type Session,
  type Target,
  type TransactionHooks,
} from "./target.ts";

type Queryable = PGlite | Transaction;

/**
 * A {@linkcode Target} on PGlite: no server needed.
 *
 * @example Usage
 * ```ts
 * import { EmbeddedTarget } from "./embedded_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const target = await EmbeddedTarget.open(dir);
 * await target.query("create table t (a text)");
 * const spec = { table: { schema: "public", table: "t" }, columns: ["a"], format: "text" as const };
 * assert.equal(await target.copyFrom(spec, new TextEncoder().encode("x\n\\N\n")), 2);
 * await target.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class EmbeddedTarget implements Target {
  readonly kind = "embedded";
  readonly description: string;
  readonly #db: PGlite;
  #closed = false;

  private constructor(db: PGlite, dataDir: string) {
    this.#db = db;
    this.description = `embedded database at ${dataDir}`;
  }

  /**
   * Opens (or creates) the database in `dataDir`.
   *
   * @param dataDir The database's directory.
   * @returns The open target.
   */
  static async open(dataDir: string): Promise<EmbeddedTarget> {
    await Deno.mkdir(dataDir, { recursive: true });
    const db = await PGlite.create(dataDir);
    return new EmbeddedTarget(db, dataDir);
  }

  query(sql: string, params?: unknown[]): Promise<QueryResult> {
    return runQuery(this.#db, sql, params);
  }

  copyFrom(
    spec: CopySpec,
    data: Uint8Array | Iterable<Uint8Array>,
  ): Promise<number> {
    return runCopy(this.#db, spec, data);
  }

  transaction<T>(
    work: (session: Session) => Promise<T>,
    hooks: TransactionHooks = {},
  ): Promise<T> {
    return this.#db.transaction(async (tx) => {
      const result = await work({
        query: (sql, params) => runQuery(tx, sql, params),
        copyFrom: (spec, data) => runCopy(tx, spec, data),
      });
      hooks.onCommitSent?.();
      return result;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#db.close();
  }
}

async function runQuery(
  db: Queryable,
  sql: string,
  params?: unknown[],
): Promise<QueryResult> {
  const result = await db.query<Record<string, unknown>>(sql, params);
  return {
    rows: result.rows,
    fields: result.fields.map((field) => field.name),
  };
}

async function runCopy(
  db: Queryable,
  spec: CopySpec,
  data: Uint8Array | Iterable<Uint8Array>,
): Promise<number> {
  const parts = data instanceof Uint8Array ? [data] : [...data];
  const result = await db.query(copyStatement(spec, "'/dev/blob'"), [], {
    blob: new Blob(parts as Uint8Array<ArrayBuffer>[]),
  });
  return result.affectedRows ?? 0;
}
