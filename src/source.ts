/**
 * The source stage: a file or standard input as a byte stream.
 *
 * @module
 */

import { resolve } from "node:path";
import { UsageError } from "./errors.ts";

/** An input to load. */
export interface Source {
  /** The name used in messages: the path as given, or `<stdin>`. */
  readonly name: string;
  /** The bytes. */
  readonly readable: ReadableStream<Uint8Array>;
  /** The size in bytes, when known (a regular file). */
  readonly size?: number;
  /** The file's canonical path (a file, not stdin). */
  readonly realPath?: string;
}

/**
 * Opens `path` (relative to `cwd`), or standard input for `-`.
 *
 * @param path A file path, or `-`.
 * @param cwd The directory relative paths start from. Default: the process's.
 * @returns The source, ready to read.
 *
 * @example Usage
 * ```ts
 * import { openSource } from "./source.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile();
 * await Deno.writeTextFile(path, "a\n1\n");
 * const source = await openSource(path);
 * assert.equal(source.size, 4);
 * await source.readable.cancel();
 * await Deno.remove(path);
 * ```
 */
export async function openSource(
  path: string,
  cwd: string = Deno.cwd(),
): Promise<Source> {
  if (path === "-") return { name: "<stdin>", readable: Deno.stdin.readable };
  const fullPath = resolve(cwd, path);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(fullPath, { read: true });
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (error as Error).message;
    throw new UsageError(`Cannot read ${path}: ${why}`);
  }
  const info = await file.stat();
  if (info.isDirectory) {
    file.close();
    throw new UsageError(`Cannot read ${path}: it is a directory`);
  }
  return {
    name: path,
    readable: file.readable,
    size: info.isFile ? info.size : undefined,
    realPath: await Deno.realPath(fullPath),
  };
}
