/**
 * A PostgreSQL server through `pg`, with COPY FROM STDIN through
 * `pg-copy-streams`.
 *
 * @module
 */

// @ts-types="npm:@types/pg@8.23.1"
import pg from "npm:pg@8.23.1";
// @ts-types="npm:@types/pg-copy-streams@1.2.5"
import { from as copyFrom } from "npm:pg-copy-streams@7.0.0";
import { copyWritable } from "./copy_writable.ts";
import { redact } from "./redact.ts";
import {
  type CopySpec,
  copyStatement,
  type QueryResult,
  type Session,
  type Target,
  type TransactionHooks,
} from "./target.ts";

/** Bytes per COPY write: large enough to be cheap, small enough to stream. */
const COPY_CHUNK_BYTES = 64 * 1024;

/**
 * A {@linkcode Target} on a PostgreSQL server. libpq's environment
 * variables (`PGPASSWORD`, `PGSSLMODE`, …) fill in what the URL leaves out.
 *
 * @example Usage
 * ```ts ignore
 * import { PostgresTarget } from "./postgres_target.ts";
 *
 * const target = await PostgresTarget.connect(Deno.env.get("DATABASE_URL")!);
 * console.log((await target.query("select version()")).rows[0]);
 * await target.close();
 * ```
 */
export class PostgresTarget implements Target {
  readonly kind = "postgres";
  readonly description: string;
  readonly #url: string;
  #client: pg.Client;
  #closed = false;
  #lastError: unknown;

  private constructor(client: pg.Client, url: string, description: string) {
    this.#client = client;
    this.#url = url;
    this.description = description;
    this.#watch(client);
  }

  /** An idle connection that fails must not crash the process; the next statement reports it. */
  #watch(client: pg.Client): void {
    client.on("error", (error: Error) => {
      if (client === this.#client) this.#lastError ??= this.#lost(error);
    });
    // The server may end the session in answer to a statement (FATAL: an
    // administrator's command, a shutdown): that error goes to the
    // statement, and the connection just ends.
    client.on("end", () => {
      if (client === this.#client && !this.#closed) {
        this.#lastError ??= new Error(
          `Lost the connection to ${this.description}: the server closed it`,
        );
      }
    });
  }

  /** Whether the connection has failed (a new one is needed to go on). */
  get lost(): boolean {
    return this.#lastError !== undefined;
  }

  /**
   * Drops the failed connection and opens a new one to the same server.
   * Session state (advisory locks, settings) does not carry over.
   */
  async reconnect(): Promise<void> {
    const old = this.#client;
    old.end().catch(() => {});
    const client = await PostgresTarget.#open(this.#url, this.description);
    this.#client = client;
    this.#watch(client);
    this.#lastError = undefined;
  }

  /**
   * A second connection to the same server, for work that runs beside this
   * one's (another batch's transaction). It shares nothing with this one:
   * no session state, no advisory locks.
   */
  async fork(): Promise<PostgresTarget> {
    return await PostgresTarget.connect(this.#url);
  }

  /**
   * A failure of the connection itself (a reset socket, an end without a
   * word from the server) as an error naming the database; the server's
   * own errors, and failures while the connection is fine, pass through.
   */
  #lost(error: unknown): unknown {
    if (
      this.#lastError === error || !(error instanceof Error) ||
      "severity" in error
    ) {
      return error;
    }
    return new Error(
      `Lost the connection to ${this.description}: ${error.message}`,
      { cause: error },
    );
  }

  /** `error`, as {@linkcode PostgresTarget.#lost} says once the connection failed. */
  #failure(error: unknown): unknown {
    const severity = (error as { severity?: string })?.severity;
    if (severity === "FATAL" || severity === "PANIC") this.#lastError ??= error;
    return this.#lastError === undefined ? error : this.#lost(error);
  }

  /**
   * Connects to `url`.
   *
   * @param url A `postgres://` URL.
   * @returns The connected target.
   */
  static async connect(url: string): Promise<PostgresTarget> {
    const description = redact(url, [url]);
    const client = await PostgresTarget.#open(url, description);
    return new PostgresTarget(client, url, description);
  }

  static async #open(url: string, description: string): Promise<pg.Client> {
    let client: pg.Client;
    try {
      client = new pg.Client({
        connectionString: url,
        // Names the run in pg_stat_activity (a busy source names its holder);
        // an application_name in the URL wins.
        application_name: `lanecopy pid ${Deno.pid} on ${Deno.hostname()}`,
      });
    } catch (error) {
      throw new Error(
        `Cannot use the database URL ${description}: ${
          redact((error as Error).message, [url])
        }`,
      );
    }
    try {
      await client.connect();
    } catch (error) {
      client.end().catch(() => {});
      const reason = redact((error as Error).message || String(error), [url]);
      throw new Error(`Cannot connect to ${description}: ${reason}`);
    }
    return client;
  }

  /** The underlying `pg` client, for callers that need more. */
  get client(): pg.Client {
    return this.#client;
  }

  async query(sql: string, params?: unknown[]): Promise<QueryResult> {
    if (this.#lastError) throw this.#lastError;
    let result;
    try {
      result = await this.#client.query({ text: sql, values: params });
    } catch (error) {
      throw this.#failure(error);
    }
    return {
      rows: result.rows ?? [],
      fields: (result.fields ?? []).map((field) => field.name),
    };
  }

  async copyFrom(
    spec: CopySpec,
    data: Uint8Array | Iterable<Uint8Array>,
  ): Promise<number> {
    if (this.#lastError) throw this.#lastError;
    const stream = this.#client.query(copyFrom(copyStatement(spec, "STDIN")));
    const writer = copyWritable(stream, this.#client).getWriter();
    try {
      for (const chunk of data instanceof Uint8Array ? [data] : data) {
        for (let at = 0; at < chunk.length; at += COPY_CHUNK_BYTES) {
          await writer.write(chunk.subarray(at, at + COPY_CHUNK_BYTES));
        }
      }
      await writer.close();
    } catch (error) {
      await writer.abort(error).catch(() => {});
      throw this.#failure(error);
    }
    return stream.rowCount;
  }

  async transaction<T>(
    work: (session: Session) => Promise<T>,
    hooks: TransactionHooks = {},
  ): Promise<T> {
    await this.query("BEGIN");
    let result: T;
    try {
      result = await work(this);
    } catch (error) {
      await this.query("ROLLBACK").catch(() => {});
      throw error;
    }
    const commit = this.query("COMMIT");
    hooks.onCommitSent?.();
    await commit;
    return result;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#client.end().catch(() => {});
  }
}
