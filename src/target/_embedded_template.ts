/**
 * The embedded database's template: a fresh, cleanly shut down PGlite data
 * directory, shipped as `embedded_template.tar.gz` beside this file, so a
 * new database is an unpack (about 0.1 s) rather than PGlite's initdb, which
 * runs a second PostgreSQL instance plus initdb's own, copies the whole
 * WebAssembly heap, and tars the result in memory (about 3 s and 700 MB of
 * RSS).
 *
 * The tarball is a plain ustar archive, gzipped. Byte-identical files (most
 * of `template0`, `template1` and `postgres` are) are stored once; the later
 * ones are hard-link members, which {@linkcode unpackTemplate} turns into
 * copies: PostgreSQL writes each file on its own, so they must never be
 * linked. Its databases share the template's system identifier, which only
 * physical replication looks at.
 *
 * Made by running this module with the PGlite that `embedded_target.ts`
 * imports; run it again whenever that version changes (a stale template
 * fails loudly: PostgreSQL refuses a data directory of another catalog
 * version, and tests/embedded_target_test.ts opens one):
 *
 * ```sh
 * deno run -A src/target/_embedded_template.ts
 * ```
 *
 * @module
 */

import { dirname, join } from "node:path";

/** Where the template is: beside this module, wherever it is loaded from. */
export const TEMPLATE_URL: URL = new URL(
  "./embedded_template.tar.gz",
  import.meta.url,
);

const BLOCK = 512;
const TYPE_FILE = "0";
const TYPE_LINK = "1";
const TYPE_DIRECTORY = "5";

/**
 * Unpacks the template into the empty directory `dataDir`. The files go to
 * `DATADIR.new` first, which then takes the directory's place (a symlink's
 * target's), so a crash never leaves half a database behind; a
 * `DATADIR.new` from a crash is removed. The caller holds the directory's
 * lock.
 *
 * @param dataDir An existing, empty directory.
 * @param template The gzipped tar; default {@linkcode TEMPLATE_URL}.
 * @returns `false` if the template could not be read (the caller lets PGlite
 *   run initdb instead), else `true`: the directory holds a database.
 */
export async function unpackTemplate(
  dataDir: string,
  template: URL = TEMPLATE_URL,
): Promise<boolean> {
  let source: ReadableStream<Uint8Array<ArrayBuffer>>;
  try {
    source = template.protocol === "file:"
      ? (await Deno.open(template)).readable
      : await fetchBody(template);
  } catch {
    return false; // not carried, or not readable with these permissions
  }
  // Beside the directory itself (a symlink to it stays one), not inside it.
  dataDir = await Deno.realPath(dataDir);
  const staging = `${dataDir}.new`;
  try {
    await Deno.remove(staging, { recursive: true }).catch((error) => {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    });
    await Deno.mkdir(staging, { mode: 0o700 });
    await untar(source.pipeThrough(new DecompressionStream("gzip")), staging);
    await Deno.remove(dataDir); // empty: the caller checked (and it fails if not)
    await Deno.rename(staging, dataDir);
  } catch (error) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw error;
  }
  return true;
}

async function fetchBody(
  url: URL,
): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
  const response = await fetch(url);
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new Error(`Cannot fetch ${url}: ${response.status}`);
  }
  return response.body;
}

/** Writes the members of the tar stream `tar` under `root`. */
async function untar(
  tar: ReadableStream<Uint8Array>,
  root: string,
): Promise<void> {
  const input = new ExactReader(tar);
  const decoder = new TextDecoder();
  const made = new Set<string>([root]);
  const field = (header: Uint8Array, start: number, length: number) => {
    const bytes = header.subarray(start, start + length);
    const end = bytes.indexOf(0);
    return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
  };
  while (true) {
    const header = await input.read(BLOCK);
    if (header === undefined || header.every((byte) => byte === 0)) return;
    const name = safePath(field(header, 345, 155), field(header, 0, 100));
    const mode = parseInt(field(header, 100, 8), 8) & 0o777;
    const size = parseInt(field(header, 124, 12), 8);
    const type = field(header, 156, 1) || TYPE_FILE;
    const path = join(root, name);
    if (type === TYPE_DIRECTORY) {
      await Deno.mkdir(path, { recursive: true, mode });
      made.add(path);
    } else if (type === TYPE_LINK) {
      await Deno.copyFile(
        join(root, safePath("", field(header, 157, 100))),
        path,
      );
    } else if (type === TYPE_FILE) {
      if (!made.has(dirname(path))) {
        await Deno.mkdir(dirname(path), { recursive: true, mode: 0o700 });
        made.add(dirname(path));
      }
      using file = await Deno.open(path, {
        write: true,
        createNew: true,
        mode,
      });
      for (let left = size; left > 0;) {
        const piece = await input.read(Math.min(left, 1 << 20));
        if (piece === undefined) throw new Error("Truncated template: " + name);
        for (let at = 0; at < piece.length;) {
          at += await file.write(piece.subarray(at));
        }
        left -= piece.length;
      }
      await input.read((BLOCK - size % BLOCK) % BLOCK);
    } else {
      throw new Error(`Cannot unpack the template: ${name} has type ${type}`);
    }
  }
}

/** A member's name, refused if it could leave the directory. */
function safePath(prefix: string, name: string): string {
  const path = prefix ? `${prefix}/${name}` : name;
  const parts = path.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.length === 0 || parts.includes("..") || path.startsWith("/")) {
    throw new Error(`Cannot unpack the template: bad member name ${path}`);
  }
  return parts.join("/");
}

/** Reads a byte stream in pieces of an exact length. */
class ExactReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunk = new Uint8Array(0);

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** The next `length` bytes; `undefined` at the end of the stream. */
  async read(length: number): Promise<Uint8Array | undefined> {
    if (this.#chunk.length >= length) return this.#take(length);
    const parts: Uint8Array[] = [this.#chunk];
    let have = this.#chunk.length;
    while (have < length) {
      const { value, done } = await this.#reader.read();
      if (done) {
        if (have === 0) return undefined;
        throw new Error("Truncated template");
      }
      parts.push(value);
      have += value.length;
    }
    const joined = new Uint8Array(have);
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    this.#chunk = joined;
    return this.#take(length);
  }

  #take(length: number): Uint8Array {
    const piece = this.#chunk.subarray(0, length);
    this.#chunk = this.#chunk.subarray(length);
    return piece;
  }
}

/**
 * Packs the data directory `dir` as a tar (directories first, then files,
 * each name sorted; a file byte-identical to an earlier one as a hard-link
 * member naming it).
 */
async function tarDirectory(dir: string): Promise<Uint8Array> {
  const directories: string[] = [];
  const files: string[] = [];
  const walk = async (relative: string) => {
    const entries = [];
    for await (const entry of Deno.readDir(join(dir, relative))) {
      entries.push(entry);
    }
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const entry of entries) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory) {
        directories.push(path);
        await walk(path);
      } else if (entry.isFile) {
        files.push(path);
      } else {
        throw new Error(`Cannot pack ${path}: not a file or directory`);
      }
    }
  };
  await walk("");
  const blocks: Uint8Array[] = [];
  for (const path of directories) {
    blocks.push(tarHeader(path, TYPE_DIRECTORY, 0o700, 0));
  }
  const seen = new Map<string, string>();
  for (const path of files) {
    const bytes = await Deno.readFile(join(dir, path));
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", bytes),
    ).toString();
    const first = seen.get(digest);
    if (first !== undefined) {
      blocks.push(tarHeader(path, TYPE_LINK, 0o600, 0, first));
      continue;
    }
    seen.set(digest, path);
    blocks.push(tarHeader(path, TYPE_FILE, 0o600, bytes.length), bytes);
    blocks.push(new Uint8Array((BLOCK - bytes.length % BLOCK) % BLOCK));
  }
  blocks.push(new Uint8Array(2 * BLOCK));
  const tar = new Uint8Array(blocks.reduce((sum, b) => sum + b.length, 0));
  let at = 0;
  for (const block of blocks) {
    tar.set(block, at);
    at += block.length;
  }
  return tar;
}

function tarHeader(
  name: string,
  type: string,
  mode: number,
  size: number,
  linkName = "",
): Uint8Array {
  const header = new Uint8Array(BLOCK);
  const encoder = new TextEncoder();
  const put = (start: number, length: number, text: string) => {
    const bytes = encoder.encode(text);
    if (bytes.length > length) throw new Error(`Cannot pack ${name}: too long`);
    header.set(bytes, start);
  };
  const octal = (value: number, length: number) =>
    value.toString(8).padStart(length - 1, "0");
  put(0, 100, name);
  put(100, 8, octal(mode, 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(size, 12));
  put(136, 12, octal(0, 12));
  put(148, 8, "        ");
  put(156, 1, type);
  put(157, 100, linkName);
  put(257, 8, "ustar\u000000");
  const sum = header.reduce((total, byte) => total + byte, 0);
  put(148, 8, `${octal(sum, 7)}\u0000`);
  return header;
}

if (import.meta.main) {
  const { PGlite } = await import("npm:@electric-sql/pglite@0.5.16");
  const { gzipSync } = await import("node:zlib");
  const dir = await Deno.makeTempDir({ prefix: "lanecopy_template_" });
  try {
    const db = await PGlite.create(dir); // PGlite's initdb
    await db.close(); // a clean shutdown: no recovery when a copy starts
    const tar = await tarDirectory(dir);
    const gzipped = gzipSync(tar, { level: 9 });
    await Deno.writeFile(TEMPLATE_URL, gzipped);
    console.log(
      `${TEMPLATE_URL.pathname}: ${(tar.length / 2 ** 20).toFixed(1)} MiB ` +
        `of tar, ${(gzipped.length / 2 ** 20).toFixed(1)} MiB gzipped`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
