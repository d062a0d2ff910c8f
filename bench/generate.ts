/**
 * A seeded, deterministic generator of realistic CSV for the benchmarks:
 * the same seed and row count always give the same bytes.
 *
 * Columns (see `typed_table.ts`): `id,body,qty,price,active,created_at,lane,
 * payload,note,ref`. `body` mixes commas, double quotes, embedded LF and
 * CRLF, backslashes (`\N` among them), tabs and multibyte UTF-8; `note` is
 * NULL (an unquoted empty field) about 10% of the time and the empty string
 * (`""`) about 3% of the time. Fields are quoted per RFC 4180 only when they
 * need it, and always when they are the empty string.
 *
 * ```sh
 * deno run -A bench/generate.ts --rows 100000 --seed 7 --out /tmp/rows.csv
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";

/** The header line's fields, in file order. */
export const CSV_HEADER =
  "id,body,qty,price,active,created_at,lane,payload,note,ref";

/** The seed {@linkcode generateCsv} uses when none is given. */
export const DEFAULT_SEED = 42;

/** The 16 distinct values of the `lane` column. */
export const LANES: readonly string[] = [
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
  "eu-west-1",
  "eu-west-2",
  "eu-central-1",
  "eu-north-1",
  "ap-south-1",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-southeast-1",
  "ap-southeast-2",
  "sa-east-1",
  "ca-central-1",
  "me-south-1",
];

/** Options for {@linkcode generateCsv}. */
export interface GenerateCsvOptions {
  /** Data rows to write (the header is not counted). */
  rows: number;
  /** PRNG seed, an integer. Default {@linkcode DEFAULT_SEED}. */
  seed?: number;
  /** Whether to write the header line first. Default `true`. */
  header?: boolean;
}

/** Bytes (roughly: UTF-16 units before encoding) per emitted chunk. */
const CHUNK_SIZE = 64 * 1024;

const WORDS = [
  "order",
  "shipped",
  "pending",
  "customer",
  "invoice",
  "refund",
  "warehouse",
  "pallet",
  "delivery",
  "address",
  "priority",
  "express",
  "return",
  "damaged",
  "signed",
  "backorder",
  "the",
  "and",
  "for",
  "with",
  "café",
  "naïve",
  "Zürich",
];

/** Tokens that make a field need quoting or escaping somewhere. */
const SPECIALS = [
  ",",
  ", and",
  '"quoted"',
  'size 12"',
  "\n",
  "\n",
  "\r\n",
  "\t",
  "C:\\temp\\new",
  "\\N",
  "back\\slash",
  "é",
  "中文",
  "数据库",
  "🚀",
  "👍🏽",
];

const NOTES = [
  "n/a",
  "leave at door",
  "call before, please",
  'customer says "urgent"',
  "gift wrap ",
  "fragile 📦",
  "送货上门",
  "see ticket #4411",
];

const TZ_OFFSETS: readonly (readonly [string, number])[] = [
  ["Z", 0],
  ["+00:00", 0],
  ["+01:00", 60],
  ["+02:00", 120],
  ["+05:30", 330],
  ["+05:45", 345],
  ["+09:00", 540],
  ["-03:00", -180],
  ["-05:00", -300],
  ["-08:00", -480],
];

const TIME_BASE_MS = Date.UTC(2023, 0, 1);
const TIME_SPAN_S = 2 * 365 * 86_400;

/** Quotes a field per RFC 4180 when it needs it (or is the empty string). */
function quote(field: string): string {
  if (field === "" || /[",\r\n]/.test(field)) {
    return `"${field.replaceAll('"', '""')}"`;
  }
  return field;
}

function pick<T>(rng: RandomGenerator, items: readonly T[]): T {
  return items[uniformInt(rng, 0, items.length - 1)];
}

function body(rng: RandomGenerator): string {
  const count = uniformInt(rng, 2, 14);
  // About half the bodies are plain words; the rest mix in special tokens.
  const specialOdds = uniformInt(rng, 0, 1) === 0 ? 0 : 4;
  let text = pick(rng, WORDS);
  for (let i = 1; i < count; i++) {
    const token = uniformInt(rng, 0, 9) < specialOdds
      ? pick(rng, SPECIALS)
      : pick(rng, WORDS);
    const glued = token === "," || token.endsWith("\n") ||
      text.endsWith("\n");
    text += glued ? token : ` ${token}`;
  }
  return text;
}

function price(rng: RandomGenerator): string {
  const big = uniformInt(rng, 0, 99) === 0;
  const cents = uniformInt(rng, 0, big ? 99_999_999_99 : 99_999_99);
  const sign = uniformInt(rng, 0, 49) === 0 ? "-" : "";
  const units = Math.floor(cents / 100);
  return `${sign}${units}.${String(cents % 100).padStart(2, "0")}`;
}

function active(rng: RandomGenerator): string {
  return pick(rng, ["t", "f", "true", "false"]);
}

function createdAt(rng: RandomGenerator): string {
  const ms = TIME_BASE_MS + uniformInt(rng, 0, TIME_SPAN_S) * 1000 +
    uniformInt(rng, 0, 999);
  const [suffix, minutes] = pick(rng, TZ_OFFSETS);
  const local = new Date(ms + minutes * 60_000).toISOString();
  const withMillis = uniformInt(rng, 0, 1) === 0;
  return local.slice(0, withMillis ? 23 : 19) + suffix;
}

function lane(rng: RandomGenerator): string {
  // Skewed like real traffic: the first lane takes about a quarter of rows.
  return uniformInt(rng, 0, 3) === 0 ? LANES[0] : pick(rng, LANES);
}

function payload(rng: RandomGenerator, laneName: string): string {
  const tags = [];
  for (let i = uniformInt(rng, 0, 3); i > 0; i--) tags.push(pick(rng, WORDS));
  const object: Record<string, unknown> = {
    v: 1,
    lane: laneName,
    n: uniformInt(rng, -1000, 1_000_000),
    tags,
    ok: uniformInt(rng, 0, 1) === 1,
  };
  if (uniformInt(rng, 0, 3) === 0) {
    object.geo = {
      lat: uniformInt(rng, -900_000, 900_000) / 10_000,
      lon: uniformInt(rng, -1_800_000, 1_800_000) / 10_000,
    };
  }
  if (uniformInt(rng, 0, 4) === 0) object.msg = pick(rng, NOTES);
  if (uniformInt(rng, 0, 9) === 0) object.parent = null;
  return JSON.stringify(object);
}

/** Returns the note's CSV text: `""` is the empty string, nothing is NULL. */
function note(rng: RandomGenerator): string {
  const roll = uniformInt(rng, 0, 99);
  if (roll < 10) return "";
  if (roll < 13) return '""';
  return quote(pick(rng, NOTES));
}

function hex8(rng: RandomGenerator): string {
  return (rng.next() >>> 0).toString(16).padStart(8, "0");
}

function uuid(rng: RandomGenerator): string {
  const hex = hex8(rng) + hex8(rng) + hex8(rng) + hex8(rng);
  const variant = "89ab"[parseInt(hex[16], 16) & 3];
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-` +
    `${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function row(rng: RandomGenerator, id: number): string {
  const laneName = lane(rng);
  return [
    String(id),
    quote(body(rng)),
    String(
      uniformInt(rng, 0, 9) === 0
        ? -uniformInt(rng, 1, 50)
        : uniformInt(rng, 0, 500),
    ),
    price(rng),
    active(rng),
    createdAt(rng),
    laneName,
    quote(payload(rng, laneName)),
    note(rng),
    uuid(rng),
  ].join(",") + "\n";
}

/**
 * Streams `rows` rows of realistic CSV, in chunks of about 64 KiB. Memory
 * stays flat for any row count: rows are made as the reader pulls.
 *
 * @param options Row count, seed and whether to write a header.
 * @returns A byte stream of UTF-8 CSV with LF record endings.
 * @throws {RangeError} If `rows` is not a non-negative safe integer or
 * `seed` is not an integer.
 *
 * @example Same seed, same bytes
 * ```ts
 * import { generateCsv } from "./generate.ts";
 * import assert from "node:assert/strict";
 *
 * const text = (seed: number) =>
 *   new Response(generateCsv({ rows: 50, seed })).text();
 * const first = await text(7);
 * assert.equal(await text(7), first);
 * assert.notEqual(await text(8), first);
 * assert.ok(first.startsWith("id,body,qty,price,active,created_at,lane,"));
 * ```
 */
export function generateCsv(
  options: GenerateCsvOptions,
): ReadableStream<Uint8Array> {
  const { rows, seed = DEFAULT_SEED, header = true } = options;
  if (!Number.isSafeInteger(rows) || rows < 0) {
    throw new RangeError(
      `Cannot generate CSV as rows must be a non-negative integer: current value is ${rows}`,
    );
  }
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(
      `Cannot generate CSV as seed must be an integer: current value is ${seed}`,
    );
  }
  const rng = xoroshiro128plus(seed);
  const encoder = new TextEncoder();
  let next = 1;
  let pending = header ? CSV_HEADER + "\n" : "";
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const parts = [pending];
      let size = pending.length;
      pending = "";
      while (size < CHUNK_SIZE && next <= rows) {
        const line = row(rng, next++);
        parts.push(line);
        size += line.length;
      }
      if (size > 0) controller.enqueue(encoder.encode(parts.join("")));
      if (next > rows) controller.close();
    },
  }, { highWaterMark: 0 });
}

/**
 * Writes {@linkcode generateCsv}'s output to a file (created or truncated).
 *
 * @param path The file to write.
 * @param options Row count, seed and whether to write a header.
 *
 * @example Write 10 rows and count the lines
 * ```ts
 * import { writeCsvFile } from "./generate.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await writeCsvFile(path, { rows: 10, seed: 1 });
 * const text = await Deno.readTextFile(path);
 * assert.ok(text.endsWith("\n"));
 * await Deno.remove(path);
 * ```
 */
export async function writeCsvFile(
  path: string,
  options: GenerateCsvOptions,
): Promise<void> {
  const stream = generateCsv(options);
  const file = await Deno.create(path);
  await stream.pipeTo(file.writable);
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      rows: { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      "no-header": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || values.rows === undefined) {
    console.error(
      "usage: deno run -A bench/generate.ts --rows N [--seed S] [--out FILE] [--no-header]",
    );
    Deno.exit(values.help ? 0 : 2);
  }
  const options = {
    rows: Number(values.rows),
    seed: values.seed === undefined ? DEFAULT_SEED : Number(values.seed),
    header: !values["no-header"],
  };
  if (values.out === undefined) {
    await generateCsv(options).pipeTo(Deno.stdout.writable, {
      preventClose: true,
    });
  } else {
    await writeCsvFile(values.out, options);
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(
      `generate: ${error instanceof Error ? error.message : error}`,
    );
    Deno.exit(
      error instanceof RangeError || error instanceof TypeError ? 2 : 1,
    );
  }
}
