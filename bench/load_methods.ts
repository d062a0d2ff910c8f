/**
 * The load methods `compare.ts` runs side by side, each as a subprocess
 * under `/usr/bin/time` (wall time, client CPU, client peak RSS measured
 * the same way for all): `psql \copy`, the lanecopy CLI in its variants,
 * the INSERT batch path, and the ceiling: the server loading a COPY binary
 * file it wrote itself, with no client in the way.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-types="@types/pg"
import pg from "pg";
import { typedTableDdl } from "./typed_table.ts";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const COMPARE = fileURLToPath(new URL("./compare.ts", import.meta.url));

/** What one subprocess load measured. */
export interface LoadMeasure {
  /** Wall-clock seconds, around the subprocess. */
  wall: number;
  /** Client CPU seconds: user + sys of the subprocess. */
  cpu: number;
  /** Client peak resident set size, KiB. */
  maxRssKiB: number;
  /** The subprocess's standard output. */
  stdout: string;
}

/** A load that did not succeed, with what the subprocess said. */
export class LoadError extends Error {
  override name = "LoadError";
}

/**
 * Runs a command under `/usr/bin/time -f "%e %U %S %M"` and returns its
 * wall time, CPU seconds and peak RSS. Rejects with its stderr when it exits
 * non-zero.
 *
 * @param argv The command and its arguments.
 * @returns What the run measured, and its stdout.
 *
 * @example Time a trivial command
 * ```ts
 * import { timedRun } from "./load_methods.ts";
 * import assert from "node:assert/strict";
 *
 * const measure = await timedRun(["true"]);
 * assert.ok(measure.wall >= 0 && measure.maxRssKiB > 0);
 * ```
 */
export async function timedRun(argv: string[]): Promise<LoadMeasure> {
  const timeFile = await Deno.makeTempFile({ prefix: "lanecopy_time_" });
  try {
    const started = performance.now();
    const output = await new Deno.Command("/usr/bin/time", {
      args: ["-f", "%e %U %S %M", "-o", timeFile, ...argv],
      cwd: REPO_ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const wall = (performance.now() - started) / 1000;
    const decoder = new TextDecoder();
    const stdout = decoder.decode(output.stdout);
    if (!output.success) {
      throw new LoadError(
        `exited with code ${output.code}, stderr:\n${
          decoder.decode(output.stderr).trimEnd()
        }`,
      );
    }
    const timeLine = (await Deno.readTextFile(timeFile)).trim().split("\n")
      .at(-1) ?? "";
    const [, user, sys, rss] = timeLine.split(" ").map(Number);
    return { wall, cpu: user + sys, maxRssKiB: rss, stdout };
  } finally {
    await Deno.remove(timeFile).catch(() => {});
  }
}

/** Quotes a string as an SQL literal (for psql's `\copy` and `COPY`). */
function sqlLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Quotes `schema.name` (unquoted parts) as an SQL identifier.
 *
 * @param table The table, `schema.name`.
 * @returns Each part double-quoted.
 *
 * @example Usage
 * ```ts
 * import { quoted } from "./load_methods.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(quoted("public.t"), '"public"."t"');
 * ```
 */
export function quoted(table: string): string {
  return table.split(".").map((part) => `"${part.replaceAll('"', '""')}"`)
    .join(".");
}

/**
 * The last line of `stdout` that is a JSON object (lanecopy's `--json`
 * summary).
 *
 * @param stdout A process's output.
 * @returns The object, or `undefined` when no line is one.
 *
 * @example Usage
 * ```ts
 * import { lastJsonLine } from "./load_methods.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(lastJsonLine('x\n{"rows":2}\n'), { rows: 2 });
 * ```
 */
export function lastJsonLine(
  stdout: string,
): Record<string, unknown> | undefined {
  for (const line of stdout.trim().split("\n").reverse()) {
    try {
      const value = JSON.parse(line);
      if (value && typeof value === "object") return value;
    } catch {
      // Not JSON: keep looking.
    }
  }
  return undefined;
}

/** A load method: how to run it into `table` (`schema.name`, unquoted). */
export interface Method {
  name: string;
  /** Loads with `--lane`: into the typed table plus a `lane_seq` column. */
  lanes?: boolean;
  /** Untimed set-up, once before the rounds (rejects with a LoadError). */
  prepare?(file: string, url: string): Promise<void>;
  run(file: string, table: string, url: string): Promise<LoadMeasure>;
}

/** psql with `ON_ERROR_STOP`, running each of `commands` in turn. */
export function psql(url: string, commands: string[]): Promise<LoadMeasure> {
  return timedRun([
    "psql",
    url,
    "-X",
    "-q",
    "-v",
    "ON_ERROR_STOP=1",
    ...commands.flatMap((command) => ["-c", command]),
  ]);
}

/** `\copy` of the generated CSV file into `table`. */
function csvCopy(file: string, table: string): string {
  return `\\copy ${quoted(table)} FROM ${
    sqlLiteral(file)
  } (FORMAT csv, HEADER)`;
}

/** The yardstick: `psql \copy` of the CSV file. */
export const PSQL: Method = {
  name: "psql \\copy",
  run: (file, table, url) => psql(url, [csvCopy(file, table)]),
};

/**
 * The server loading the same rows from a file it wrote itself, `COPY t
 * FROM '/path/rows.bin' (FORMAT binary)` (the ceiling: no client work, no
 * wire, no text parsing) or the same in COPY text (what the server's own
 * text parsing costs, with no client). The file goes in `dir`, which this
 * makes writable by the server's OS user; so the server must run on this
 * machine. Set-up, untimed: the CSV goes by `psql \copy` into a staging
 * table, which the server then writes out with `COPY ... TO`.
 *
 * @param dir A directory of this process's that the file may go in.
 * @param format The file's COPY format.
 * @returns The method.
 */
export function serverFile(dir: string, format: "binary" | "text"): Method {
  const shared = join(dir, "server");
  const serverFile = join(
    shared,
    `rows.${format === "binary" ? "bin" : "txt"}`,
  );
  const staging = `public.lanecopy_compare_${format}_source`;
  return {
    name: `server COPY ${format} file`,
    prepare: async (file, url) => {
      // The server (the postgres user) must write here, and read it back.
      await Deno.chmod(dir, 0o711);
      await Deno.mkdir(shared, { recursive: true });
      await Deno.chmod(shared, 0o777);
      await psql(url, [
        `DROP TABLE IF EXISTS ${quoted(staging)}; ${
          typedTableDdl(quoted(staging))
        }`,
        csvCopy(file, staging),
        `COPY ${quoted(staging)} TO ${
          sqlLiteral(serverFile)
        } (FORMAT ${format})`,
        `DROP TABLE ${quoted(staging)}`,
      ]);
    },
    run: (_file, table, url) =>
      psql(url, [
        `COPY ${quoted(table)} FROM ${
          sqlLiteral(serverFile)
        } (FORMAT ${format})`,
      ]),
  };
}

/**
 * The lanecopy CLI: the WASM codec (the default) or `--codec ts`, with
 * `--copy-format auto` (the default: binary where it can) or `text`.
 *
 * @param codec The codec.
 * @param copyFormat `--copy-format`, when not the default.
 * @returns The method.
 */
export function lanecopy(codec: "wasm" | "ts", copyFormat?: "text"): Method {
  return {
    name: `lanecopy CLI${codec === "ts" ? " --codec ts" : ""}${
      copyFormat ? ` --copy-format ${copyFormat}` : ""
    }`,
    run: (file, table, url) =>
      runLanecopy(
        file,
        table,
        url,
        codec,
        copyFormat ? ["--copy-format", copyFormat] : [],
      ),
  };
}

/**
 * The lanecopy CLI with `--lane lane` (gapless seqs per lane, into the
 * typed table plus `lane_seq`) and `parallel` writers.
 *
 * @param parallel Writers (`--parallel`).
 * @param batchSize `--batch-size`, when not the default.
 * @returns The method.
 */
export function lanecopyLanes(parallel: number, batchSize?: number): Method {
  return {
    name: `lanecopy CLI --lane${parallel > 1 ? ` --parallel ${parallel}` : ""}${
      batchSize === undefined ? "" : ` --batch-size ${batchSize}`
    }`,
    lanes: true,
    run: (file, table, url) =>
      runLanecopy(file, table, url, "wasm", [
        "--lane",
        "lane",
        "--parallel",
        String(parallel),
        ...(batchSize === undefined ? [] : ["--batch-size", String(batchSize)]),
      ]),
  };
}

async function runLanecopy(
  file: string,
  table: string,
  url: string,
  codec: "wasm" | "ts",
  flags: string[] = [],
): Promise<LoadMeasure> {
  const measure = await timedRun([
    Deno.execPath(),
    "run",
    "-A",
    // The flags `deno task ingest` and `deno task install` use.
    "--v8-flags=--max-semi-space-size=1",
    "src/cli/main.ts",
    "ingest",
    file,
    "--table",
    table,
    "--db",
    url,
    // Each round is a new load of the file, not a resume of the last.
    "--source-id",
    `bench ${crypto.randomUUID()}`,
    "--codec",
    codec,
    ...flags,
    "--quiet",
    "--json",
  ]);
  const summary = lastJsonLine(measure.stdout);
  if (typeof summary?.rows !== "number") {
    throw new LoadError(
      `lanecopy printed no JSON summary with rows: ${measure.stdout.trim()}`,
    );
  }
  return measure;
}

/**
 * The INSERT batch path at `batch` rows per statement, as its own process
 * (`compare.ts --insert-worker`).
 *
 * @param batch Rows per INSERT.
 * @returns The method.
 */
export function insertPath(batch: number): Method {
  return {
    name: `INSERT unnest batch ${batch}`,
    run: (file, table, url) =>
      timedRun([
        Deno.execPath(),
        "run",
        "-A",
        COMPARE,
        "--insert-worker",
        file,
        "--insert-batch",
        String(batch),
        "--table",
        table,
        "--db",
        url,
      ]),
  };
}

/** lanecopy as installed: the WASM codec, `--copy-format auto`. */
export const LANECOPY: Method = lanecopy("wasm");
/** lanecopy's text path (`--copy-format text`). */
export const LANECOPY_TEXT: Method = lanecopy("wasm", "text");
/** lanecopy with the TypeScript codec. */
export const LANECOPY_TS: Method = lanecopy("ts");
/** lanecopy `--lane`, one writer. */
export const LANECOPY_LANES: Method = lanecopyLanes(1);
/** lanecopy `--lane --parallel 2`. */
export const LANECOPY_PARALLEL: Method = lanecopyLanes(2);
/** The ceiling's name: the server loads a COPY binary file it wrote. */
export const CEILING: string = serverFile("", "binary").name;
/** The server loading a COPY text file it wrote: its own text parsing. */
export const SERVER_TEXT: string = serverFile("", "text").name;

/**
 * Runs `use` with a client connected to `url`, then closes it.
 *
 * @param url The server.
 * @param use What to do with the client.
 * @returns What `use` returns.
 */
export async function withClient<T>(
  url: string,
  use: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
