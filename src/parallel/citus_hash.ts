/**
 * Citus's hash of a distribution value, computed as PostgreSQL 15 computes
 * it: Citus places a row of a hash-distributed table by the 32-bit hash
 * the column type's default hash function gives its value (`hashint4`,
 * `hashint8`, `hashtext`, `uuid_hash`, …), read as a signed int32, and the
 * shard whose hash range holds it. Those functions are Bob Jenkins's
 * lookup3 (`hash_bytes` and `hash_bytes_uint32` in PostgreSQL's
 * `src/common/hashfn.c`), written out here for a little-endian server.
 *
 * A lane key is the lane field's text as the source has it; each type's
 * value is parsed from that text as PostgreSQL's input function reads it.
 *
 * @module
 */

/** The distribution column types whose hash {@linkcode distributionHash} computes. */
export const HASHABLE_TYPES = [
  "int2",
  "int4",
  "int8",
  "text",
  "varchar",
  "bpchar",
  "uuid",
] as const;

/** A distribution column type whose hash is computed here. */
export type HashableType = typeof HASHABLE_TYPES[number];

/**
 * Whether `type` (a `pg_type.typname`) is one whose hash
 * {@linkcode distributionHash} computes.
 *
 * @param type The type's name, as `pg_type.typname` spells it.
 * @returns Whether its values can be hashed here.
 *
 * @example Usage
 * ```ts
 * import { isHashableType } from "./citus_hash.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isHashableType("int8"), true);
 * assert.equal(isHashableType("numeric"), false);
 * ```
 */
export function isHashableType(type: string): type is HashableType {
  return (HASHABLE_TYPES as readonly string[]).includes(type);
}

const GOLDEN = 0x9e3779b9 + 3923095;

/** Rotates a 32-bit value left by `k` bits. */
function rot(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Three 32-bit words of Jenkins's state, mixed in place by `mix` and `final`. */
class JenkinsState {
  a: number;
  b: number;
  c: number;

  constructor(length: number) {
    this.a = this.b = this.c = (GOLDEN + length) | 0;
  }

  /** lookup3's `mix`: reversible mixing of the three words. */
  mix(): void {
    let { a, b, c } = this;
    a = (a - c) | 0;
    a ^= rot(c, 4);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 6);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 8);
    b = (b + a) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 16);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 19);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 4);
    b = (b + a) | 0;
    this.a = a;
    this.b = b;
    this.c = c;
  }

  /** lookup3's `final`: the last mixing, into `c`, which it returns (unsigned). */
  final(): number {
    let { a, b, c } = this;
    c ^= b;
    c = (c - rot(b, 14)) | 0;
    a ^= c;
    a = (a - rot(c, 11)) | 0;
    b ^= a;
    b = (b - rot(a, 25)) | 0;
    c ^= b;
    c = (c - rot(b, 16)) | 0;
    a ^= c;
    a = (a - rot(c, 4)) | 0;
    b ^= a;
    b = (b - rot(a, 14)) | 0;
    c ^= b;
    c = (c - rot(b, 24)) | 0;
    return c >>> 0;
  }
}

/** The little-endian 32-bit word of `k` at `i`, of `n` bytes (1 to 4) there. */
function word(k: Uint8Array, i: number, n: number): number {
  let value = 0;
  for (let j = n - 1; j >= 0; j--) value = (value << 8) | k[i + j];
  return value;
}

/**
 * PostgreSQL's `hash_bytes` (`hash_any`): Jenkins's lookup3 hash of a byte
 * string, as a little-endian server computes it.
 *
 * @param bytes The key.
 * @returns The hash, an unsigned 32-bit number.
 *
 * @example Usage
 * ```ts
 * import { hashBytes } from "./citus_hash.ts";
 * import assert from "node:assert/strict";
 *
 * // SELECT hashtext('') and hashtext('abc') on PostgreSQL 15.
 * assert.equal(hashBytes(new Uint8Array(0)) | 0, -1477818771);
 * assert.equal(hashBytes(new TextEncoder().encode("abc")) | 0, -785388649);
 * ```
 */
export function hashBytes(bytes: Uint8Array): number {
  let length = bytes.length;
  const state = new JenkinsState(length);
  let i = 0;
  while (length >= 12) {
    state.a = (state.a + word(bytes, i, 4)) | 0;
    state.b = (state.b + word(bytes, i + 4, 4)) | 0;
    state.c = (state.c + word(bytes, i + 8, 4)) | 0;
    state.mix();
    i += 12;
    length -= 12;
  }
  // The last 0 to 11 bytes; the lowest byte of c is the length's (it is
  // folded in at the start), so c takes bytes 8 to 10 from its second byte.
  if (length > 8) {
    state.c = (state.c + (word(bytes, i + 8, length - 8) << 8)) | 0;
  }
  if (length > 4) {
    state.b = (state.b + word(bytes, i + 4, Math.min(4, length - 4))) | 0;
  }
  if (length > 0) {
    state.a = (state.a + word(bytes, i, Math.min(4, length))) | 0;
  }
  return state.final();
}

/**
 * PostgreSQL's `hash_bytes_uint32` (`hash_uint32`): the hash of a 32-bit
 * value, equal to {@linkcode hashBytes} of its four little-endian bytes.
 *
 * @param value The value; its low 32 bits count.
 * @returns The hash, an unsigned 32-bit number.
 *
 * @example Usage
 * ```ts
 * import { hashBytes, hashUint32 } from "./citus_hash.ts";
 * import assert from "node:assert/strict";
 *
 * // SELECT hashint4(1) on PostgreSQL 15.
 * assert.equal(hashUint32(1) | 0, -1905060026);
 * assert.equal(hashUint32(-7), hashBytes(new Uint8Array(Int32Array.of(-7).buffer)));
 * ```
 */
export function hashUint32(value: number): number {
  const state = new JenkinsState(4);
  state.a = (state.a + value) | 0;
  return state.final();
}

/**
 * PostgreSQL's `hashint8`: the two halves of the value folded into one 32-bit
 * word (the high half, or its complement for a negative value, xor the low
 * half), then {@linkcode hashUint32}; so a bigint hashes as the int4 of the
 * same value does.
 *
 * @param value The value.
 * @returns The hash, an unsigned 32-bit number.
 *
 * @example Usage
 * ```ts
 * import { hashInt8, hashUint32 } from "./citus_hash.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(hashInt8(-5n), hashUint32(-5));
 * assert.equal(hashInt8(2n ** 40n), hashUint32(2 ** 8));
 * ```
 */
export function hashInt8(value: bigint): number {
  const low = Number(BigInt.asUintN(32, value));
  const high = Number(BigInt.asUintN(32, value >> 32n));
  return hashUint32(low ^ (value >= 0n ? high : ~high));
}

const encoder = new TextEncoder();

/**
 * Citus's hash of a distribution value given as text (the lane key): the
 * value parsed as PostgreSQL's input function of `type` reads it (`int2`,
 * `int4`, `int8`: optional blanks, an optional sign, decimal digits; `uuid`:
 * 32 hex digits, a hyphen allowed after any group of four, optionally in
 * braces), hashed by the type's default hash function, as a signed int32.
 * `text` and `varchar` hash their UTF-8 bytes; `bpchar` without its
 * trailing spaces. (This is the hash under a deterministic collation;
 * another one hashes a sort key, which is not computed here.)
 *
 * @param type The distribution column's type.
 * @param text The value as text.
 * @returns The hash, a signed 32-bit number, or `undefined` when the text is
 * no value of the type (the server would refuse it) or out of its range.
 *
 * @example Usage
 * ```ts
 * import { distributionHash } from "./citus_hash.ts";
 * import assert from "node:assert/strict";
 *
 * // As worker_hash() and hashtext() say on PostgreSQL 15 with Citus.
 * assert.equal(distributionHash("int4", "1"), -1905060026);
 * assert.equal(distributionHash("int8", " +1 "), -1905060026);
 * assert.equal(distributionHash("text", "abc"), -785388649);
 * assert.equal(distributionHash("bpchar", "abc  "), -785388649);
 * assert.equal(distributionHash("uuid", "{a0eebc999c0b4ef8bb6d6bb9bd380a11}"), 1154666245);
 * assert.equal(distributionHash("int2", "40000"), undefined);
 * assert.equal(distributionHash("uuid", "not-a-uuid"), undefined);
 * ```
 */
export function distributionHash(
  type: HashableType,
  text: string,
): number | undefined {
  switch (type) {
    case "int2":
    case "int4": {
      const value = parseInteger(text, type === "int2" ? 16 : 32);
      return value === undefined ? undefined : hashUint32(Number(value)) | 0;
    }
    case "int8": {
      const value = parseInteger(text, 64);
      return value === undefined ? undefined : hashInt8(value) | 0;
    }
    case "text":
    case "varchar":
      return hashBytes(encoder.encode(text)) | 0;
    case "bpchar":
      return hashBytes(encoder.encode(text.replace(/ +$/, ""))) | 0;
    case "uuid": {
      const bytes = parseUuid(text);
      return bytes === undefined ? undefined : hashBytes(bytes) | 0;
    }
  }
}

/** The blanks PostgreSQL's integer input skips around a number (`isspace`). */
const BLANK = /^[ \t\n\r\v\f]*([+-]?)([0-9]+)[ \t\n\r\v\f]*$/;

/**
 * An integer of `bits` bits as PostgreSQL 15's `pg_strtoint16/32/64` reads
 * it, or `undefined` when it does not parse or is out of range.
 */
function parseInteger(text: string, bits: 16 | 32 | 64): bigint | undefined {
  const match = BLANK.exec(text);
  if (match === null) return undefined;
  const value = BigInt(`${match[1]}${match[2]}`);
  const limit = 1n << BigInt(bits - 1);
  return value >= -limit && value < limit ? value : undefined;
}

/**
 * A uuid's 16 bytes as PostgreSQL's `uuid_in` reads its text, or
 * `undefined` when it does not parse.
 */
function parseUuid(text: string): Uint8Array | undefined {
  let i = 0;
  const braces = text[0] === "{";
  if (braces) i++;
  const bytes = new Uint8Array(16);
  const hex = /^[0-9a-fA-F]{2}$/;
  for (let byte = 0; byte < 16; byte++) {
    const pair = text.slice(i, i + 2);
    if (!hex.test(pair)) return undefined;
    bytes[byte] = parseInt(pair, 16);
    i += 2;
    if (text[i] === "-" && byte % 2 === 1 && byte < 15) i++;
  }
  if (braces) {
    if (text[i] !== "}") return undefined;
    i++;
  }
  return i === text.length ? bytes : undefined;
}
