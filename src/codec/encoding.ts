/**
 * Input encodings (`--encoding NAME`): which ones the CSV framing can read,
 * what PostgreSQL calls them, and how lanecopy decodes the header's names
 * and lane keys in them.
 *
 * The framing looks for ASCII bytes only (delimiter, quote, escape, line
 * breaks), so it can read any encoding in which those bytes always stand
 * for themselves: UTF-8, the single-byte ISO-8859, Windows and KOI8
 * encodings, and EUC-JP, EUC-KR and EUC-CN, whose multibyte characters
 * are made of bytes 0x80 and above. Encodings in which such a byte can be
 * part of a character (Shift_JIS, Big5, GBK, GB18030, UHC, ISO-2022-JP)
 * and UTF-16 are refused.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** How the codec counts and checks an encoding's characters. */
export type Charset = "utf-8" | "single-byte" | "euc-jp" | "euc";

/** An encoding lanecopy can read. */
export interface Encoding {
  /**
   * Its name as the source's options store it: PostgreSQL's, except
   * `utf-8` for UTF-8 (what sources loaded before there was a choice hold).
   */
  name: string;
  /** PostgreSQL's name, for COPY's `ENCODING` option. */
  postgres: string;
  /** How the codec counts and checks characters. */
  charset: Charset;
  /** Decodes bytes (a header's name, a lane key) to text. */
  decode(bytes: Uint8Array): string;
  /**
   * Encodes text (the null string) in this encoding.
   * @throws {UsageError} When a character has no byte sequence in it.
   */
  encode(text: string): Uint8Array;
}

/**
 * Each encoding: PostgreSQL's name, the WHATWG label `TextDecoder` knows it
 * by, the charset, and other names it goes by.
 */
const ENCODINGS: [string, string, Charset, string[]][] = [
  ["UTF8", "utf-8", "utf-8", ["utf-8", "unicode-1-1-utf-8"]],
  ["LATIN1", "iso-8859-1", "single-byte", ["iso-8859-1", "l1", "cp819"]],
  ["LATIN2", "iso-8859-2", "single-byte", ["iso-8859-2", "l2"]],
  ["LATIN3", "iso-8859-3", "single-byte", ["iso-8859-3", "l3"]],
  ["LATIN4", "iso-8859-4", "single-byte", ["iso-8859-4", "l4"]],
  ["ISO_8859_5", "iso-8859-5", "single-byte", ["cyrillic"]],
  ["ISO_8859_6", "iso-8859-6", "single-byte", ["arabic"]],
  ["ISO_8859_7", "iso-8859-7", "single-byte", ["greek"]],
  ["ISO_8859_8", "iso-8859-8", "single-byte", ["hebrew"]],
  ["LATIN5", "iso-8859-9", "single-byte", ["iso-8859-9", "l5"]],
  ["LATIN6", "iso-8859-10", "single-byte", ["iso-8859-10", "l6"]],
  ["LATIN7", "iso-8859-13", "single-byte", ["iso-8859-13", "l7"]],
  ["LATIN8", "iso-8859-14", "single-byte", ["iso-8859-14", "l8"]],
  ["LATIN9", "iso-8859-15", "single-byte", ["iso-8859-15", "l9"]],
  ["LATIN10", "iso-8859-16", "single-byte", ["iso-8859-16", "l10"]],
  ["WIN866", "ibm866", "single-byte", ["ibm866", "cp866", "alt"]],
  ["WIN874", "windows-874", "single-byte", ["windows-874", "cp874"]],
  ["WIN1250", "windows-1250", "single-byte", ["windows-1250", "cp1250"]],
  ["WIN1251", "windows-1251", "single-byte", ["windows-1251", "cp1251"]],
  ["WIN1252", "windows-1252", "single-byte", ["windows-1252", "cp1252"]],
  ["WIN1253", "windows-1253", "single-byte", ["windows-1253", "cp1253"]],
  ["WIN1254", "windows-1254", "single-byte", ["windows-1254", "cp1254"]],
  ["WIN1255", "windows-1255", "single-byte", ["windows-1255", "cp1255"]],
  ["WIN1256", "windows-1256", "single-byte", ["windows-1256", "cp1256"]],
  ["WIN1257", "windows-1257", "single-byte", ["windows-1257", "cp1257"]],
  ["WIN1258", "windows-1258", "single-byte", ["windows-1258", "cp1258"]],
  ["KOI8R", "koi8-r", "single-byte", ["koi8-r", "koi8"]],
  ["KOI8U", "koi8-u", "single-byte", ["koi8-u"]],
  ["EUC_JP", "euc-jp", "euc-jp", ["euc-jp", "eucjp"]],
  ["EUC_KR", "euc-kr", "euc", ["euc-kr", "euckr"]],
  ["EUC_CN", "gb2312", "euc", ["euc-cn", "euccn", "gb2312"]],
];

/** Encodings the framing cannot read, and why. */
const REFUSED: [string[], string][] = [
  [
    ["utf-16", "utf-16le", "utf-16be", "utf16", "ucs-2", "utf-32"],
    "its characters are not ASCII-compatible bytes",
  ],
  [
    [
      "sjis",
      "shift_jis",
      "shift-jis",
      "windows-31j",
      "cp932",
      "big5",
      "gbk",
      "cp936",
      "gb18030",
      "uhc",
      "windows-949",
      "cp949",
      "johab",
      "shift_jis_2004",
    ],
    "bytes such as 0x5C (backslash) or 0x7C can be part of a multibyte character",
  ],
  [
    ["iso-2022-jp", "csiso2022jp"],
    "bytes such as 0x22 (quote) and 0x2C (comma) can be part of a character",
  ],
];

/** A name as looked up: lower case, without `-`, `_` and spaces. */
function key(name: string): string {
  return name.toLowerCase().replace(/[-_ ]/g, "");
}

const BY_NAME = new Map<string, (typeof ENCODINGS)[number]>();
for (const entry of ENCODINGS) {
  for (const name of [entry[0], entry[1], ...entry[3]]) {
    BY_NAME.set(key(name), entry);
  }
}

/**
 * The encoding a name stands for: PostgreSQL's names (`LATIN1`, `WIN1252`,
 * `EUC_JP`), the WHATWG labels `TextDecoder` takes (`iso-8859-15`,
 * `windows-1252`, `koi8-r`) and common aliases (`latin1`, `cp1252`), in
 * any case, with or without `-` and `_`.
 *
 * `latin1` and `iso-8859-1` are ISO 8859-1 as PostgreSQL reads them: bytes
 * 0x80 to 0x9F are the C1 controls, not Windows-1252's characters (which a
 * browser's `TextDecoder("latin1")` gives).
 *
 * @param name The encoding's name.
 * @returns The encoding.
 * @throws {UsageError} For an encoding lanecopy cannot read.
 *
 * @example Usage
 * ```ts
 * import { resolveEncoding } from "./encoding.ts";
 * import assert from "node:assert/strict";
 *
 * const latin1 = resolveEncoding("latin1");
 * assert.equal(latin1.postgres, "LATIN1");
 * assert.equal(latin1.decode(Uint8Array.of(0x63, 0x61, 0x66, 0xe9)), "café");
 * assert.deepEqual([...latin1.encode("né")], [0x6e, 0xe9]);
 * assert.equal(resolveEncoding("Windows-1252").name, "WIN1252");
 * assert.equal(resolveEncoding("UTF8").name, "utf-8");
 * assert.throws(() => resolveEncoding("SJIS"), /Cannot read input as SJIS/);
 * ```
 */
export function resolveEncoding(name: string): Encoding {
  const entry = BY_NAME.get(key(name));
  if (entry === undefined) {
    const refused = REFUSED.find(([names]) =>
      names.some((known) => key(known) === key(name))
    );
    throw new UsageError(
      refused
        ? `Cannot read input as ${name}: ${
          refused[1]
        }, so CSV's delimiters, quotes and line breaks cannot be found in it (convert it to UTF-8 first, for example with iconv)`
        : `Cannot read input as ${name}: not an encoding lanecopy knows (it reads ${
          ENCODINGS.map(([postgres]) => postgres).join(", ")
        }, and their usual names)`,
    );
  }
  const [postgres, label, charset] = entry;
  const decode = decoderFor(label);
  return {
    name: charset === "utf-8" ? "utf-8" : postgres,
    postgres,
    charset,
    decode,
    encode: encoderFor(postgres, charset, decode),
  };
}

/** Decodes bytes in the encoding `TextDecoder` calls `label`. */
function decoderFor(label: string): (bytes: Uint8Array) => string {
  if (label === "iso-8859-1") {
    // Each byte is its code point (TextDecoder would read Windows-1252).
    return (bytes) => {
      let text = "";
      for (let at = 0; at < bytes.length; at += 8192) {
        text += String.fromCharCode(...bytes.subarray(at, at + 8192));
      }
      return text;
    };
  }
  const decoder = new TextDecoder(label);
  if (label !== "iso-8859-9") return (bytes) => decoder.decode(bytes);
  // TextDecoder reads ISO 8859-9 as Windows-1254: keep 0x80-0x9F the C1
  // controls, as PostgreSQL's LATIN5 does.
  return (bytes) =>
    [...bytes].map((b) =>
      b >= 0x80 && b <= 0x9f
        ? String.fromCharCode(b)
        : decoder.decode(Uint8Array.of(b))
    ).join("");
}

/** Encodes text in the encoding: UTF-8, or byte by byte by reverse lookup. */
function encoderFor(
  postgres: string,
  charset: Charset,
  decode: (bytes: Uint8Array) => string,
): (text: string) => Uint8Array {
  if (charset === "utf-8") {
    const encoder = new TextEncoder();
    return (text) => encoder.encode(text);
  }
  const bytes = new Map<string, number>();
  for (let b = 0; b < (charset === "single-byte" ? 256 : 128); b++) {
    const character = decode(Uint8Array.of(b));
    if (character !== "\ufffd" && !bytes.has(character)) {
      bytes.set(character, b);
    }
  }
  return (text) =>
    Uint8Array.from([...text], (character) => {
      const b = bytes.get(character);
      if (b === undefined) {
        throw new UsageError(
          `Cannot write "${text}" in ${postgres}: it has no ${
            charset === "single-byte" ? "byte" : "single-byte character"
          } for "${character}"`,
        );
      }
      return b;
    });
}
