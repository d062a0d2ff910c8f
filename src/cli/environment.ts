/**
 * What the command takes from its environment: the caller's directory, the
 * database (`DATABASE_URL`, libpq's variables and service files), and the
 * secrets no message may show. The library reads no environment variable;
 * the command reads them here and passes what they say as options.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import {
  type ConnectionSettings,
  formatConnectionString,
  parseConnectionString,
  serviceSettings,
} from "../target/connection_string.ts";

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

/** libpq's variables that name a server: with any of them set, `psql` connects to one. */
const SERVER_VARIABLES = [
  "PGHOST",
  "PGHOSTADDR",
  "PGPORT",
  "PGDATABASE",
  "PGSERVICE",
];

/** An environment variable's value; set but empty counts as unset. */
function variable(name: string): string | undefined {
  return Deno.env.get(name) || undefined;
}

/**
 * Which database the command uses, as the library's `db`: `--db` (a URL
 * or a libpq keyword string), else `DATABASE_URL`, else, when any of
 * libpq's `PGHOST`, `PGHOSTADDR`, `PGPORT`, `PGDATABASE` or `PGSERVICE` is
 * set, the server they name (`postgresql://`, which `pg` fills in from
 * them as `psql` would), else none: the embedded database. What `pg` does
 * not read itself is filled in here: a service's settings (`service=` or
 * `PGSERVICE`, from `PGSERVICEFILE` or `~/.pg_service.conf`, then
 * `pg_service.conf` in `PGSYSCONFDIR`, default `/etc/postgresql-common`)
 * and `PGHOSTADDR`. `pg` itself reads `PGPASSWORD`, `PGSSLMODE`, the rest of
 * libpq's variables and the password file (`PGPASSFILE`, default
 * `~/.pgpass`).
 *
 * @param db The `--db` flag (or the config file's), if given; empty means
 * the embedded database.
 * @returns The connection string to pass as the library's `db`, if any.
 * @throws {UsageError} For a connection string that is not PostgreSQL's,
 * or a service no service file defines.
 *
 * @example Usage
 * ```ts
 * import { databaseUrl } from "./environment.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(databaseUrl("postgres://app@db/shop"), "postgres://app@db/shop");
 * assert.equal(databaseUrl("host=db dbname=shop"), "host=db dbname=shop");
 * assert.equal(databaseUrl(""), undefined);
 * assert.throws(() => databaseUrl("mysql://db/shop"), /lanecopy loads into PostgreSQL only/);
 * ```
 */
export function databaseUrl(db: string | undefined): string | undefined {
  const chosen = db ?? variable("DATABASE_URL") ??
    (SERVER_VARIABLES.some(variable) ? "postgresql://" : undefined);
  return chosen ? withWhatPgMisses(chosen) : undefined;
}

/**
 * `db` with a service's settings and `PGHOSTADDR` written in (`pg` reads
 * neither); unchanged when neither applies. As in libpq, the string's own
 * settings come first, then the service's, then the environment's.
 */
function withWhatPgMisses(db: string): string {
  const settings = parseConnectionString(db);
  const service = settings.service ?? variable("PGSERVICE");
  const hostaddr = variable("PGHOSTADDR");
  if (service === undefined && (hostaddr === undefined || settings.hostaddr)) {
    return db;
  }
  const filled: ConnectionSettings = {
    ...(service === undefined ? {} : findService(service)),
    ...settings,
  };
  delete filled.service;
  if (filled.hostaddr === undefined && hostaddr) filled.hostaddr = hostaddr;
  const expanded = formatConnectionString(filled) || "postgresql://";
  if (filled.password !== undefined) addSecret(expanded);
  return expanded;
}

/** The settings of service `name`: the user's service file first, then the system's. */
function findService(name: string): ConnectionSettings {
  const home = variable("HOME");
  const files = [
    variable("PGSERVICEFILE") ??
      (home === undefined ? undefined : `${home}/.pg_service.conf`),
    `${variable("PGSYSCONFDIR") ?? "/etc/postgresql-common"}/pg_service.conf`,
  ].filter((file) => file !== undefined);
  for (const file of files) {
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    const found = serviceSettings(text, name, file);
    if (found !== undefined) return found;
  }
  throw new UsageError(
    `Cannot use service "${name}": ${
      files.join(" and ")
    } do not define it (define it there, or set PGSERVICEFILE to the file that does)`,
  );
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
 * strings (and services' with a password), every argument that is a URL or
 * holds a `password=`, `DATABASE_URL` and `PGPASSWORD`.
 *
 * @param args The command line's arguments.
 * @returns The secrets, none empty.
 *
 * @example Usage
 * ```ts
 * import { secretsToMask } from "./environment.ts";
 * import assert from "node:assert/strict";
 *
 * const secrets = secretsToMask(["sql", "--db", "postgres://app:pw@db/shop", "--db", "password=pw"]);
 * assert.ok(secrets.includes("postgres://app:pw@db/shop"));
 * assert.ok(secrets.includes("password=pw"));
 * assert.ok(!secrets.includes("sql"));
 * ```
 */
export function secretsToMask(args: string[]): string[] {
  return [
    ...configSecrets,
    ...args.filter((arg) => arg.includes("://") || /password\s*=/i.test(arg)),
    Deno.env.get("DATABASE_URL") ?? "",
    Deno.env.get("PGPASSWORD") ?? "",
  ].filter((secret) => secret.length > 0);
}
