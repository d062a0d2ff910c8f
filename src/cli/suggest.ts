/**
 * "Did you mean …?": the known name nearest to a mistyped one, by edit
 * distance (Levenshtein, from `fastest-levenshtein`).
 *
 * @module
 */

import { distance } from "npm:fastest-levenshtein@1.0.16";

/**
 * The candidate nearest to `input`, if one is near enough to be what was
 * meant: at most 1 edit away for names of up to 3 characters, 2 for up to
 * 8, 3 beyond; else the only candidate that starts with `input` (3
 * characters or more). Ties go to the earlier candidate.
 *
 * @param input What was typed, without dashes.
 * @param candidates The names it could have meant, in order of preference.
 * @returns The nearest name, or `undefined` when none is near.
 *
 * @example Usage
 * ```ts
 * import { suggest } from "./suggest.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(suggest("tabel", ["table", "lane", "db"]), "table");
 * assert.equal(suggest("seq", ["seq-column", "source-id"]), "seq-column");
 * assert.equal(suggest("frobnicate", ["table", "lane"]), undefined);
 * ```
 */
export function suggest(
  input: string,
  candidates: readonly string[],
): string | undefined {
  const length = [...input].length;
  const limit = length <= 3 ? 1 : length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(input, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance <= limit) return best;
  const prefixed = candidates.filter((candidate) =>
    candidate.startsWith(input)
  );
  return length >= 3 && prefixed.length === 1 ? prefixed[0] : undefined;
}
