/**
 * Opens the database rows go to: a server (`postgres_target.ts`, loaded only
 * when a connection string is given) or the embedded PGlite database
 * (`embedded_target.ts`, loaded only without one).
 *
 * @module
 */

import { resolve } from "node:path";
import { DEFAULTS } from "../defaults.ts";
import type { Target } from "./target.ts";

/**
 * Which database to open: a server by its connection string, else the
 * embedded database in a directory.
 *
 * @example The embedded database in a directory of your choice
 * ```ts
 * import { openTarget, type TargetOptions } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const options: TargetOptions = { dataDir };
 * const target = await openTarget(options);
 * assert.equal(target.description, dataDir);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface TargetOptions {
  /**
   * The server: a `postgres://` URL or a libpq keyword string
   * (`host=db port=5432 dbname=shop user=app`). What it leaves out, `pg`
   * fills in as libpq does, from libpq's environment variables (`PGHOST`,
   * `PGPORT`, `PGUSER`, `PGPASSWORD`, …), the password file and the
   * defaults, so `postgresql://` alone is the server that environment
   * names (as `psql` with no arguments). Another scheme (`mysql://`) is
   * refused. Unset or empty: the embedded database. The library itself
   * reads no environment variable: the command decides between `--db`,
   * `DATABASE_URL`, libpq's variables and the embedded database, and passes
   * what it decided here.
   */
  db?: string;
  /** The embedded database's directory. Default `./.lanecopy/db`. */
  dataDir?: string;
  /** The directory relative paths start from. Default: the process's. */
  cwd?: string;
}

/** The embedded database's directory when none is given (from the config schema). */
export const DEFAULT_DATA_DIR: string = DEFAULTS.dataDir;

/**
 * Opens the database the options name: the server `db` names, else the
 * embedded PGlite database in `dataDir`. The target's `description` says
 * which: `user@host:port/database` (never the password), or the embedded
 * database's directory.
 *
 * @param options Which database.
 * @returns An open target; close it when done.
 *
 * @example Usage
 * ```ts
 * import { openTarget } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * assert.equal(target.kind, "embedded");
 * const { rows } = await target.query("select 1 + 1 as two");
 * assert.equal(rows[0].two, 2);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function openTarget(options: TargetOptions = {}): Promise<Target> {
  if (options.db) {
    const { PostgresTarget } = await import("./postgres_target.ts");
    return await PostgresTarget.connect(options.db);
  }
  const { EmbeddedTarget } = await import("./embedded_target.ts");
  const dataDir = resolve(
    options.cwd ?? Deno.cwd(),
    options.dataDir ?? DEFAULT_DATA_DIR,
  );
  return await EmbeddedTarget.open(dataDir);
}
