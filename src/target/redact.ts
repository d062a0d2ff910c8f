/**
 * Keeps passwords out of everything lanecopy prints.
 *
 * @module
 */

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@\s]*@/gi;
/** `password=` and its value: quoted (`'a \\' b'`) or up to a space or `&`. */
const KEYWORD_PASSWORD =
  /(password\s*=\s*)('(?:[^'\\]|\\.)*'?|(?:[^\s&\\]|\\.)+)/gi;

/**
 * Replaces every password in `text` with `***`: the password of a URL
 * (`scheme://user:password@`), a `password=` keyword, and each of the
 * given secrets wherever it appears (also percent-decoded, or unquoted as
 * libpq reads a keyword string's value).
 *
 * @param text Any text about to be shown.
 * @param secrets Connection strings or passwords known to be secret.
 * @returns The text with the secrets masked.
 *
 * @example Usage
 * ```ts
 * import { redact } from "./redact.ts";
 * import assert from "node:assert/strict";
 *
 * const url = "postgres://app:s3cr%21t@db:5432/x";
 * assert.equal(
 *   redact(`Invalid URL: '${url}', password s3cr!t`, [url]),
 *   "Invalid URL: 'postgres://app:***@db:5432/x', password ***",
 * );
 * const keywords = String.raw`host=db password='it\'s secret'`;
 * assert.equal(
 *   redact(`${keywords}; it's secret`, [keywords]),
 *   "host=db password=***; ***",
 * );
 * ```
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let result = text.replace(URL_PASSWORD, "$1***@").replace(
    KEYWORD_PASSWORD,
    "$1***",
  );
  for (const secret of secrets) {
    for (const password of passwordsIn(secret)) {
      if (password.length > 0) result = result.replaceAll(password, "***");
    }
  }
  return result;
}

/**
 * The password of a connection string: a URL's raw and percent-decoded, a
 * keyword string's as written and as libpq reads it; else the secret is a
 * password itself.
 */
function passwordsIn(secret: string): string[] {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:([^@\s]*)@/i.exec(secret);
  if (!match) {
    const keyword = new RegExp(KEYWORD_PASSWORD.source, "i").exec(secret);
    if (!keyword) return [secret.includes("://") ? "" : secret];
    const value = keyword[2];
    const unquoted = value.startsWith("'")
      ? value.replace(/^'|'$/g, "")
      : value;
    return [value, unquoted.replace(/\\(.)/g, "$1")];
  }
  const raw = match[1];
  try {
    return [raw, decodeURIComponent(raw)];
  } catch {
    return [raw];
  }
}
