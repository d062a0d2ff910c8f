/**
 * Opens the database rows go to: a server (`postgres_target.ts`, loaded only
 * when a URL is given) or the embedded PGlite database
 * (`embedded_target.ts`, loaded only without one).
 *
 * @module
 */

import { resolve } from "node:path";
import { DEFAULTS } from "../defaults.ts";
import type { Target } from "./target.ts";

/**
 * Which database to open: a server by URL, else the embedded database in a
 * directory.
 *
 * @example The embedded database in a directory of your choice
 * ```ts
 * import { openTarget, type TargetOptions } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const options: TargetOptions = { dataDir };
 * const target = await openTarget(options);
 * assert.equal(target.description, `embedded database at ${dataDir}`);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export interface TargetOptions {
  /**
   * A PostgreSQL URL. Unset or empty: the embedded database. The library
   * reads no environment variable; the CLI passes `DATABASE_URL` here.
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
 * Opens the database the options name: the server at `db`, else the
 * embedded PGlite database in `dataDir`.
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
