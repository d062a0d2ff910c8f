/**
 * A CSV source's header line as its bytes: what the reject file starts
 * with, so that the rejects, once fixed, load with the same options as
 * the source. Read from the source's first bytes without losing them.
 *
 * @module
 */

import { peekHead } from "./_peek.ts";
import { hasOwnedChunks, markOwnedChunks, type Source } from "./open_source.ts";

/**
 * How a header record is framed: the quote, and the escape inside quotes.
 *
 * @example Usage
 * ```ts
 * import { headerEnd, type HeaderFraming } from "./header_line.ts";
 * import assert from "node:assert/strict";
 *
 * const framing: HeaderFraming = { quote: "'" };
 * assert.equal(headerEnd(new TextEncoder().encode("'a\nb'\n1\n"), framing), 6);
 * ```
 */
export interface HeaderFraming {
  /** The quote character, one ASCII character. Default `"`. */
  quote?: string;
  /** Before a quote (or itself) inside quotes, makes it data. Default: the quote. */
  escape?: string;
}

/** Bytes read at most for a header; a longer one is not looked for. */
const HEADER_LIMIT = 16 << 20;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Where the header record of CSV bytes ends: just past its line break (LF,
 * CRLF or a lone CR) outside quotes, after a byte order mark and the empty
 * lines before it (which are not records). `undefined` when `bytes` do not
 * hold the whole header yet.
 *
 * @param bytes The first bytes of a CSV source.
 * @param framing The quote and escape characters.
 * @returns The header's end, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { headerEnd } from "./header_line.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = (text: string) => new TextEncoder().encode(text);
 * assert.equal(headerEnd(bytes('id,"a\nb"\r\n1,2\n')), 10);
 * assert.equal(headerEnd(bytes("\n\nid\n1\n")), 5);
 * assert.equal(headerEnd(bytes('id,"a\\"b"\n'), { escape: "\\" }), 10);
 * assert.equal(headerEnd(bytes('id,"a\n')), undefined);
 * assert.equal(headerEnd(bytes("id\r")), undefined); // CRLF or a lone CR?
 * ```
 */
export function headerEnd(
  bytes: Uint8Array,
  framing: HeaderFraming = {},
): number | undefined {
  const quote = (framing.quote ?? '"').charCodeAt(0);
  const escape = (framing.escape ?? framing.quote ?? '"').charCodeAt(0);
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (bytes[i] === LF || bytes[i] === CR) i++;
  let quoted = false;
  for (; i < bytes.length; i++) {
    const b = bytes[i];
    if (quoted && b === escape && escape !== quote) {
      if (i + 1 === bytes.length) return undefined;
      if (bytes[i + 1] === quote || bytes[i + 1] === escape) i++;
    } else if (b === quote) {
      // A doubled quote toggles twice: it stays inside.
      quoted = !quoted;
    } else if (!quoted && b === LF) {
      return i + 1;
    } else if (!quoted && b === CR) {
      if (i + 1 === bytes.length) return undefined;
      return bytes[i + 1] === LF ? i + 2 : i + 1;
    }
  }
  return undefined;
}

/**
 * Reads a CSV source's header line: its bytes from the source's start to
 * the end of its header record (a byte order mark, empty lines before it
 * and its line break included), exactly as the source has them. The
 * source returned replays them. No header when the input ends within it
 * without a line break (it is then all there is), or when it is longer
 * than 16 MiB.
 *
 * @param source A CSV source with a header, not yet read.
 * @param framing The quote and escape characters.
 * @returns The header's bytes, and the source to read from now on.
 *
 * @example Usage
 * ```ts
 * import { readHeaderLine } from "./header_line.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new TextEncoder().encode("id,region\r\n7,emea\r\n");
 * const { header, source } = await readHeaderLine({
 *   name: "in.csv",
 *   readable: ReadableStream.from([bytes.subarray(0, 4), bytes.subarray(4)]),
 * });
 * assert.equal(new TextDecoder().decode(header), "id,region\r\n");
 * const chunks = await Array.fromAsync(source.readable);
 * assert.equal(chunks.reduce((n, chunk) => n + chunk.length, 0), bytes.length);
 * ```
 */
export async function readHeaderLine(
  source: Source,
  framing: HeaderFraming = {},
): Promise<{ header?: Uint8Array; source: Source }> {
  const peeked = await peekHead(
    source.readable,
    (head) => headerEnd(head, framing) !== undefined,
    HEADER_LIMIT,
  );
  if (hasOwnedChunks(source.readable)) markOwnedChunks(peeked.readable);
  const end = headerEnd(peeked.head, framing);
  return {
    header: end === undefined ? undefined : peeked.head.slice(0, end),
    source: { ...source, readable: peeked.readable },
  };
}
