/**
 * What the command takes from its environment: the caller's directory, the
 * server named by `DATABASE_URL`, and the secrets no message may show. The
 * library reads no environment variable; the command reads them here and
 * passes what they say as options.
 *
 * @module
 */

/**
 * The caller's directory, where relative paths start: under `deno task`,
 * where the task was started (`LANECOPY_CWD`); otherwise the process's.
 *
 * @example Usage
 * ```ts
 * import { callerCwd } from "./environment.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(callerCwd, Deno.env.get("LANECOPY_CWD") || Deno.cwd());
 * ```
 */
export const callerCwd: string = Deno.env.get("LANECOPY_CWD") || Deno.cwd();

/**
 * The server `--db` names, else `DATABASE_URL`; none means the embedded
 * database.
 *
 * @param db The `--db` flag (or the config file's), if given.
 * @returns The connection string to pass as the library's `db`, if any.
 *
 * @example Usage
 * ```ts
 * import { databaseUrl } from "./environment.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(databaseUrl("postgres://app@db/shop"), "postgres://app@db/shop");
 * assert.equal(databaseUrl(undefined), Deno.env.get("DATABASE_URL"));
 * ```
 */
export function databaseUrl(db: string | undefined): string | undefined {
  return db ?? Deno.env.get("DATABASE_URL");
}

/** Connection strings read from a config file: masked like --db's. */
const configSecrets: string[] = [];

/**
 * Remembers a connection string read from a config file, so an error
 * message masks it like one given by `--db`.
 *
 * @param secret The connection string.
 *
 * @example Usage
 * ```ts
 * import { addSecret, secretsToMask } from "./environment.ts";
 * import assert from "node:assert/strict";
 *
 * addSecret("postgres://app:pw@db/shop");
 * assert.ok(secretsToMask([]).includes("postgres://app:pw@db/shop"));
 * ```
 */
export function addSecret(secret: string): void {
  configSecrets.push(secret);
}

/**
 * What an error message must not show: the config files' connection
 * strings, every argument that is a URL, `DATABASE_URL` and `PGPASSWORD`.
 *
 * @param args The command line's arguments.
 * @returns The secrets, none empty.
 *
 * @example Usage
 * ```ts
 * import { secretsToMask } from "./environment.ts";
 * import assert from "node:assert/strict";
 *
 * const secrets = secretsToMask(["sql", "--db", "postgres://app:pw@db/shop"]);
 * assert.ok(secrets.includes("postgres://app:pw@db/shop"));
 * assert.ok(!secrets.includes("sql"));
 * ```
 */
export function secretsToMask(args: string[]): string[] {
  return [
    ...configSecrets,
    ...args.filter((arg) => arg.includes("://")),
    Deno.env.get("DATABASE_URL") ?? "",
    Deno.env.get("PGPASSWORD") ?? "",
  ].filter((secret) => secret.length > 0);
}
