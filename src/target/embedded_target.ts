/**
 * The embedded database: PGlite, persisted in a directory, COPY through
 * `COPY … FROM '/dev/blob'`.
 *
 * @module
 */

import { PGlite, type Transaction } from "npm:@electric-sql/pglite@0.5.16";
import { ExitCode, UsageError } from "../errors.ts";
import { unpackTemplate } from "./_embedded_template.ts";
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
 * PostgreSQL settings the embedded database starts with, after PGlite's own
 * (which include `-F`: no fsync; every write still reaches the kernel before
 * COMMIT returns, so a committed batch survives the process, not a power
 * cut). PGlite's initdb writes `shared_buffers = 128MB`, and in WebAssembly
 * shared memory is resident from the start (128MB costs 125 MiB of RSS more
 * than 16MB); a load runs no slower with 16MB, as COPY writes through a
 * small ring of buffers anyway. `max_connections` sizes per-backend shared
 * structures; PGlite has one backend. Passed on the command line, they
 * override `postgresql.conf` and `ALTER SYSTEM`.
 */
const START_SETTINGS: readonly string[] = [
  "shared_buffers=16MB",
  "max_connections=5",
];

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
    this.description = dataDir;
  }

  /**
   * Opens (or creates) the database in `dataDir`. PGlite does not lock its
   * directory, so this does: a second process (or a second open in this
   * one) is refused with exit code 4, naming the holder's pid, rather than
   * corrupting the database. The lock is `DATADIR.lock`, released on close
   * or when the process ends.
   *
   * A new database (a missing or empty directory) is unpacked from the
   * template shipped beside this module (`_embedded_template.ts`), not made
   * by PGlite's initdb; a directory that holds other files and no database
   * is refused with exit code 4, as initdb refuses it.
   *
   * @param dataDir The database's directory.
   * @returns The open target.
   */
  static async open(dataDir: string): Promise<EmbeddedTarget> {
    await Deno.mkdir(dataDir, { recursive: true });
    const lock = await lockDirectory(dataDir);
    try {
      if (!await holdsDatabase(dataDir)) await unpackTemplate(dataDir);
      // PGlite cannot mount a symlink: give it what the link points to.
      const db = await PGlite.create(await Deno.realPath(dataDir), {
        startParams: [
          ...PGlite.defaultStartParams,
          ...START_SETTINGS.flatMap((setting) => ["-c", setting]),
        ],
      });
      return new EmbeddedTarget(db, dataDir, lock);
    } catch (error) {
      lock.close();
      throw error;
    }
  }

  /** The underlying PGlite database, for callers that need more. */
  get pglite(): PGlite {
    return this.#db;
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

/**
 * Whether `dataDir` holds a database (`false`: it is empty), refusing a
 * directory with other files in it.
 */
async function holdsDatabase(dataDir: string): Promise<boolean> {
  let empty = true;
  for await (const entry of Deno.readDir(dataDir)) {
    if (entry.name === "PG_VERSION") return true;
    empty = false;
  }
  if (empty) return false;
  throw new UsageError(
    `Cannot create the embedded database in ${dataDir}: the directory is not empty and holds no database (give --data-dir a new or empty directory)`,
    ExitCode.Refused,
  );
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
  // PGlite reads the rows with `blob.arrayBuffer()` and nothing else. A
  // real Blob would copy them into memory V8 does not count, so batches'
  // copies piled up between collections (about 40 MB of peak RSS in a
  // 100k-row load); an ArrayBuffer is freed as the heap's own.
  const bytes = wholeBuffer(data);
  const blob = { arrayBuffer: () => Promise.resolve(bytes) } as Blob;
  const result = await db.query(copyStatement(spec, "'/dev/blob'"), [], {
    blob,
  });
  return result.affectedRows ?? 0;
}

/** The bytes as one ArrayBuffer of their length, copied only if they must be. */
function wholeBuffer(data: Uint8Array | Iterable<Uint8Array>): ArrayBuffer {
  if (
    data instanceof Uint8Array && data.buffer instanceof ArrayBuffer &&
    data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
  ) return data.buffer;
  const parts = data instanceof Uint8Array ? [data] : [...data];
  const whole = new Uint8Array(
    parts.reduce((sum, part) => sum + part.length, 0),
  );
  let at = 0;
  for (const part of parts) {
    whole.set(part, at);
    at += part.length;
  }
  return whole.buffer;
}
