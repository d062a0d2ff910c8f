/**
 * Keeps passwords out of everything lanecopy prints.
 *
 * @module
 */

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@\s]*@/gi;
const KEYWORD_PASSWORD = /(password\s*=\s*)('[^']*'|[^\s&]+)/gi;

/**
 * Replaces every password in `text` with `***`: the password of a URL
 * (`scheme://user:password@`), a `password=` keyword, and each of the
 * given secrets wherever it appears (also percent-decoded).
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

/** The password of a connection string, raw and percent-decoded. */
function passwordsIn(secret: string): string[] {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:([^@\s]*)@/i.exec(secret);
  if (!match) {
    const keyword = /password\s*=\s*('[^']*'|[^\s&]+)/i.exec(secret);
    return keyword ? [keyword[1]] : [secret.includes("://") ? "" : secret];
  }
  const raw = match[1];
  try {
    return [raw, decodeURIComponent(raw)];
  } catch {
    return [raw];
  }
}
