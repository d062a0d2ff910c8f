/**
 * The embedded database: PGlite, persisted in a directory, COPY through
 * `COPY … FROM '/dev/blob'`.
 *
 * @module
 */

import { PGlite, type Transaction } from "npm:@electric-sql/pglite@0.5.16";
import { ExitCode, UsageError } from "../errors.ts";
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
  readonly #lock: Deno.FsFile;
  #closed = false;

  private constructor(db: PGlite, dataDir: string, lock: Deno.FsFile) {
    this.#db = db;
    this.#lock = lock;
    this.description = `embedded database at ${dataDir}`;
  }

  /**
   * Opens (or creates) the database in `dataDir`. PGlite does not lock its
   * directory, so this does: a second process (or a second open in this
   * one) is refused with exit code 4, naming the holder's pid, rather than
   * corrupting the database. The lock is `DATADIR.lock`, released on close
   * or when the process ends.
   *
   * @param dataDir The database's directory.
   * @returns The open target.
   */
  static async open(dataDir: string): Promise<EmbeddedTarget> {
    await Deno.mkdir(dataDir, { recursive: true });
    const lock = await lockDirectory(dataDir);
    try {
      const db = await PGlite.create(dataDir);
      return new EmbeddedTarget(db, dataDir, lock);
    } catch (error) {
      lock.close();
      throw error;
    }
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
    try {
      await this.#db.close();
    } finally {
      this.#lock.close(); // closing the file releases the lock
    }
  }
}

/** Takes `DATADIR.lock` exclusively, or refuses naming the holder. */
async function lockDirectory(dataDir: string): Promise<Deno.FsFile> {
  const path = `${dataDir.replace(/\/+$/, "")}.lock`;
  const file = await Deno.open(path, { read: true, write: true, create: true });
  if (!await file.tryLock(true)) {
    const holder = (await Deno.readTextFile(path).catch(() => "")).trim();
    file.close();
    throw new UsageError(
      `Cannot open the embedded database at ${dataDir}: ${
        holder ? `lanecopy pid ${holder}` : "another lanecopy process"
      } is using it (the embedded database serves one process at a time; wait for it, or load into a server with --db)`,
      ExitCode.Refused,
    );
  }
  await file.truncate(0);
  await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
  return file;
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
