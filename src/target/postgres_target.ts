/**
 * A PostgreSQL server through `pg`, with COPY FROM STDIN through
 * `pg-copy-streams`.
 *
 * @module
 */

// @ts-types="npm:@types/pg@8.23.1"
import pg from "npm:pg@8.23.1";
import {
  parse as parseForPg,
  toClientConfig,
} from "npm:pg-connection-string@2.14.1";
// @ts-types="npm:@types/pg-copy-streams@1.2.5"
import { from as copyFrom } from "npm:pg-copy-streams@7.0.0";
import { UsageError } from "../errors.ts";
import {
  type ConnectionSettings,
  parseConnectionString,
} from "./connection_string.ts";
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
 * A {@linkcode Target} on a PostgreSQL server, named by a URL or a libpq
 * keyword string. What it leaves out, `pg` fills in as libpq does: from
 * libpq's environment variables (`PGHOST`, `PGPORT`, `PGUSER`,
 * `PGDATABASE`, `PGPASSWORD`, `PGSSLMODE`, …), the password file
 * (`PGPASSFILE`, default `~/.pgpass`) and the defaults (`localhost:5432`,
 * the user's name); `postgresql://` alone is the server they name. Its
 * description is `user@host:port/database`, never the password.
 *
 * @example Usage
 * ```ts ignore
 * import { PostgresTarget } from "./postgres_target.ts";
 *
 * const target = await PostgresTarget.connect("host=127.0.0.1 dbname=postgres");
 * console.log(target.description); // "postgres@127.0.0.1:5432/postgres"
 * await target.close();
 * ```
 */
export class PostgresTarget implements Target {
  readonly kind = "postgres";
  readonly description: string;
  readonly #db: string;
  readonly #config: pg.ClientConfig;
  #client: pg.Client;
  #closed = false;
  #lastError: unknown;

  private constructor(
    client: pg.Client,
    db: string,
    config: pg.ClientConfig,
  ) {
    this.#client = client;
    this.#db = db;
    this.#config = config;
    this.description = describe(client);
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
    const client = await PostgresTarget.#open(this.#config, [this.#db]);
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
    return await PostgresTarget.connect(this.#db);
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
   * Connects to the server `db` names.
   *
   * @param db A `postgres://` URL or a libpq keyword string
   * (`host=db dbname=shop`); `postgresql://` for the server libpq's
   * environment names.
   * @returns The connected target.
   * @throws {UsageError} For a connection string that is not PostgreSQL's,
   * or a server that asks for a password when none was given.
   */
  static async connect(db: string): Promise<PostgresTarget> {
    const config = clientConfig(parseConnectionString(db));
    const client = await PostgresTarget.#open(config, [db]);
    return new PostgresTarget(client, db, config);
  }

  static async #open(
    config: pg.ClientConfig,
    secrets: string[],
  ): Promise<pg.Client> {
    const client = new pg.Client(config);
    try {
      await client.connect();
    } catch (error) {
      client.end().catch(() => {});
      const where = describe(client);
      if (client.password == null && asksForPassword(error)) {
        throw new UsageError(
          `Cannot connect to ${where}: the server asks for a password and none was given (set PGPASSWORD, add it to ~/.pgpass, or give it in --db)`,
        );
      }
      const reason = redact(
        (error as Error).message || String(error),
        secrets,
      );
      throw new Error(`Cannot connect to ${where}: ${reason}`);
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
    // Binary COPY has no ENCODING option: its text fields are converted
    // from the session's client_encoding, set for this COPY only (SET LOCAL:
    // a failed COPY's rollback restores it too).
    const recode = spec.format === "binary" && spec.encoding !== undefined;
    if (recode) {
      await this.query("SELECT set_config('client_encoding', $1, true)", [
        spec.encoding,
      ]);
    }
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
    if (recode) {
      await this.query("SELECT set_config('client_encoding', 'UTF8', true)");
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

/**
 * `pg`'s configuration for libpq settings. The settings go through
 * `pg-connection-string` as a URL's query, so that `sslmode`, `sslrootcert`
 * and the rest mean what they mean in a URL given to `pg`; what none of
 * them says, `pg` reads from libpq's environment.
 */
function clientConfig(settings: ConnectionSettings): pg.ClientConfig {
  for (const keyword of ["service", "passfile"]) {
    if (settings[keyword] !== undefined) {
      throw new UsageError(
        `Cannot connect with ${keyword}=${settings[keyword]}: ${
          keyword === "service"
            ? "the library reads no service file; give the service's settings (host, port, dbname, …) instead"
            : "set PGPASSFILE to the password file instead"
        }`,
      );
    }
  }
  const { dbname, hostaddr, ...rest } = settings;
  const query = new URLSearchParams(Object.entries(rest)).toString();
  const parsed = parseForPg(`postgresql://?${query}`);
  return {
    // Names the run in pg_stat_activity (a busy source names its holder);
    // an application_name in the settings wins.
    application_name: `lanecopy pid ${Deno.pid} on ${Deno.hostname()}`,
    ...toClientConfig({
      ...parsed,
      database: dbname,
      // As in libpq, hostaddr is where to connect when both are given.
      host: hostaddr ?? parsed.host,
    }),
  };
}

/** `user@host:port/database` of a client, as `pg` resolved them. */
function describe(client: pg.Client): string {
  const host = client.host.includes(":") ? `[${client.host}]` : client.host;
  return `${client.user}@${host}:${client.port}/${client.database}`;
}

/**
 * Whether a failed connection failed for want of a password: the server
 * asked for one (SCRAM fails before sending, md5 and cleartext fail as a
 * wrong password).
 */
function asksForPassword(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  return code === "28P01" || /client password must be a string/.test(
    message ?? "",
  );
}
