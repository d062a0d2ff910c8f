/**
 * libpq's two spellings of a connection: a `postgres://` URL and a string
 * of `keyword=value` settings (`host=db port=5432 dbname=shop`), read into
 * one form, libpq's keywords; and the entries of a service file
 * (`pg_service.conf`).
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import { redact } from "./redact.ts";

/**
 * A connection's settings by libpq keyword (`host`, `hostaddr`, `port`,
 * `dbname`, `user`, `password`, `sslmode`, …). What a setting leaves out,
 * libpq's environment variables and defaults fill in when connecting.
 *
 * @example Usage
 * ```ts
 * import type { ConnectionSettings } from "./connection_string.ts";
 *
 * const settings: ConnectionSettings = { host: "db", dbname: "shop" };
 * ```
 */
export type ConnectionSettings = Record<string, string>;

/** libpq's connection keywords (PostgreSQL 18's list). */
const KEYWORDS: ReadonlySet<string> = new Set([
  "application_name",
  "channel_binding",
  "client_encoding",
  "connect_timeout",
  "dbname",
  "fallback_application_name",
  "gssdelegation",
  "gssencmode",
  "gsslib",
  "host",
  "hostaddr",
  "keepalives",
  "keepalives_count",
  "keepalives_idle",
  "keepalives_interval",
  "krbsrvname",
  "load_balance_hosts",
  "max_protocol_version",
  "min_protocol_version",
  "options",
  "passfile",
  "password",
  "port",
  "replication",
  "require_auth",
  "requirepeer",
  "requiressl",
  "service",
  "servicefile",
  "ssl_max_protocol_version",
  "ssl_min_protocol_version",
  "sslcert",
  "sslcertmode",
  "sslcompression",
  "sslcrl",
  "sslcrldir",
  "sslkey",
  "sslkeylogfile",
  "sslmode",
  "sslnegotiation",
  "sslpassword",
  "sslrootcert",
  "sslsni",
  "target_session_attrs",
  "tcp_user_timeout",
  "user",
]);

/** The URL schemes libpq takes. */
const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;
/** Any other scheme (`mysql://`, `jdbc:postgresql://`, `sqlite:`). */
const OTHER_SCHEME = /^([a-z][a-z0-9+.-]*):/i;
/** What libpq's `isspace` takes for a separator. */
const SPACE = /[ \t\n\v\f\r]/;

/** What to write instead, said by every refusal below. */
const WHAT_TO_GIVE =
  'give --db a postgres:// URL, or settings such as "host=db dbname=shop"';

/**
 * Reads a connection string as libpq does: a `postgres://` or
 * `postgresql://` URL (user, password, host, port and database from its
 * parts, other settings from its query), else `keyword=value` settings
 * separated by spaces, where a value in single quotes may hold spaces and
 * a backslash makes the next character data (`password='it\'s'`).
 *
 * @param text The connection string.
 * @returns Its settings, by libpq keyword.
 * @throws {UsageError} For another scheme (`mysql://`), a URL that does not
 * parse, or settings libpq would refuse (an unknown keyword, a missing `=`,
 * an unclosed quote). No message shows a password.
 *
 * @example URLs and keyword strings read alike
 * ```ts
 * import { parseConnectionString } from "./connection_string.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   parseConnectionString("postgres://app:s%3Acret@db:5433/shop?sslmode=disable"),
 *   { user: "app", password: "s:cret", host: "db", port: "5433", dbname: "shop", sslmode: "disable" },
 * );
 * assert.deepEqual(
 *   parseConnectionString(String.raw`host=db port = 5433 dbname=shop password='it\'s a \\ secret'`),
 *   { host: "db", port: "5433", dbname: "shop", password: String.raw`it's a \ secret` },
 * );
 * assert.throws(
 *   () => parseConnectionString("mysql://root:pw@db/shop"),
 *   /Cannot use a mysql:\/\/ connection string: lanecopy loads into PostgreSQL only/,
 * );
 * ```
 */
export function parseConnectionString(text: string): ConnectionSettings {
  if (POSTGRES_URL.test(text)) return parseUrl(text);
  const scheme = OTHER_SCHEME.exec(text);
  if (scheme) {
    const prefix = text.startsWith("//", scheme[0].length)
      ? `${scheme[0]}//`
      : scheme[0];
    throw new UsageError(
      `Cannot use a ${prefix.toLowerCase()} connection string: lanecopy loads into PostgreSQL only (${WHAT_TO_GIVE})`,
    );
  }
  return parseKeywords(text);
}

/** A `postgres://` URL's settings: its parts, then its query's. */
function parseUrl(text: string): ConnectionSettings {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(
      `Cannot use the database URL ${
        redact(text, [text])
      }: it is not a valid URL (${WHAT_TO_GIVE})`,
    );
  }
  const settings: ConnectionSettings = {};
  const part = (keyword: string, value: string) => {
    if (value !== "") settings[keyword] = decode(value, text);
  };
  part("user", url.username);
  part("password", url.password);
  part("host", url.hostname.replace(/^\[(.*)\]$/, "$1"));
  part("port", url.port);
  part("dbname", url.pathname.replace(/^\//, ""));
  // libpq decodes percent escapes only: a `+` in the query stays a `+`.
  for (const pair of url.search.replace(/^\?/, "").split("&")) {
    if (pair === "") continue;
    const at = pair.indexOf("=");
    if (at < 0) {
      throw new UsageError(
        `Cannot use the database URL ${
          redact(text, [text])
        }: its query has a setting without "=" (${WHAT_TO_GIVE})`,
      );
    }
    settings[decode(pair.slice(0, at), text)] = decode(
      pair.slice(at + 1),
      text,
    );
  }
  return settings;
}

/** `value` percent-decoded, or a refusal naming the (redacted) URL. */
function decode(value: string, url: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new UsageError(
      `Cannot use the database URL ${
        redact(url, [url])
      }: it has a malformed percent escape (${WHAT_TO_GIVE})`,
    );
  }
}

/** libpq's `conninfo_parse`: `keyword=value` settings separated by spaces. */
function parseKeywords(text: string): ConnectionSettings {
  const settings: ConnectionSettings = {};
  const refuse = (what: string) =>
    new UsageError(`Cannot use the connection string: ${what}`);
  let at = 0;
  const skipSpaces = () => {
    while (at < text.length && SPACE.test(text[at])) at++;
  };
  while (true) {
    skipSpaces();
    if (at >= text.length) break;
    const start = at;
    while (at < text.length && text[at] !== "=" && !SPACE.test(text[at])) at++;
    const keyword = text.slice(start, at);
    skipSpaces();
    if (text[at] !== "=") {
      // The word is not echoed: it may be part of an unquoted password.
      throw refuse(
        `expected keyword=value settings separated by spaces, with a value that holds spaces in single quotes (${WHAT_TO_GIVE})`,
      );
    }
    at++;
    skipSpaces();
    let value = "";
    if (text[at] === "'") {
      at++;
      while (text[at] !== "'") {
        if (at >= text.length) {
          throw refuse(`the value of ${keyword} has no closing quote`);
        }
        if (text[at] === "\\" && at + 1 < text.length) at++;
        value += text[at++];
      }
      at++;
    } else {
      while (at < text.length && !SPACE.test(text[at])) {
        if (text[at] === "\\" && at + 1 < text.length) at++;
        value += text[at++];
      }
    }
    if (!KEYWORDS.has(keyword)) {
      throw refuse(
        `"${keyword}" is not a libpq setting (host, hostaddr, port, dbname, user, password, sslmode, …)`,
      );
    }
    settings[keyword] = value;
  }
  return settings;
}

/**
 * Writes settings as a libpq keyword string, quoting a value (and
 * escaping its quotes and backslashes) when it is empty or holds a space,
 * a quote or a backslash: {@linkcode parseConnectionString} reads it back
 * as it was.
 *
 * @param settings The settings.
 * @returns The keyword string (empty for no settings).
 *
 * @example Usage
 * ```ts
 * import { formatConnectionString, parseConnectionString } from "./connection_string.ts";
 * import assert from "node:assert/strict";
 *
 * const settings = { host: "db", password: String.raw`it's a \ secret`, options: "" };
 * const text = formatConnectionString(settings);
 * assert.equal(text, String.raw`host=db password='it\'s a \\ secret' options=''`);
 * assert.deepEqual(parseConnectionString(text), settings);
 * ```
 */
export function formatConnectionString(settings: ConnectionSettings): string {
  return Object.entries(settings).map(([keyword, value]) =>
    `${keyword}=${
      value === "" || /[\s'\\]/.test(value)
        ? `'${value.replace(/[\\']/g, "\\$&")}'`
        : value
    }`
  ).join(" ");
}

/**
 * The settings of service `name` in a libpq service file
 * (`pg_service.conf`): the `keyword=value` lines under `[name]`, as libpq
 * reads them (no quoting; `#` starts a comment line).
 *
 * @param text The service file's contents.
 * @param name The service.
 * @param file The file's name, for messages.
 * @returns The service's settings, or `undefined` when the file has no
 * such service.
 * @throws {UsageError} For a line libpq would refuse.
 *
 * @example Usage
 * ```ts
 * import { serviceSettings } from "./connection_string.ts";
 * import assert from "node:assert/strict";
 *
 * const file = "# shops\n[shop]\nhost=db\ndbname=shop\n\n[other]\nhost=elsewhere\n";
 * assert.deepEqual(serviceSettings(file, "shop", "pg_service.conf"), { host: "db", dbname: "shop" });
 * assert.equal(serviceSettings(file, "nope", "pg_service.conf"), undefined);
 * ```
 */
export function serviceSettings(
  text: string,
  name: string,
  file: string,
): ConnectionSettings | undefined {
  let settings: ConnectionSettings | undefined;
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("[")) {
      // The service ends where the next one starts.
      if (settings) break;
      if (line.startsWith(`[${name}]`)) settings = {};
      continue;
    }
    if (!settings) continue;
    const at = line.indexOf("=");
    const keyword = line.slice(0, at);
    if (at < 0 || !KEYWORDS.has(keyword) || keyword === "service") {
      throw new UsageError(
        `Cannot use service "${name}": line ${
          index + 1
        } of ${file} is not a libpq setting (keyword=value)`,
      );
    }
    settings[keyword] ??= line.slice(at + 1);
  }
  return settings;
}
