/**
 * Shared test helpers: the real server (its URL, SQL on it, scratch names),
 * temp inputs, and the CLI: run to its end (on the server or on an embedded
 * database), or started as a child process whose stderr is read as it
 * comes.
 *
 * @module
 */

import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";

const ROOT = new URL("..", import.meta.url).pathname;

/** The repository root, ending in `/`. */
export const REPO_ROOT = ROOT;

/**
 * The server the integration tests run against. `deno task test` sets it
 * (a throwaway cluster when the caller has none); a missing one is an
 * error, never a skip.
 */
export function databaseUrl(): string {
  const url = Deno.env.get("DATABASE_URL");
  if (!url) {
    throw new Error(
      "DATABASE_URL is not set: run the tests with `deno task test`, which starts a throwaway PostgreSQL",
    );
  }
  return url;
}

/** A table name no other test uses. */
export function scratchTable(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * The names of a scratch load on the test server: its URL, a table name no
 * other test uses ({@linkcode scratchTable}), and its bookkeeping schema
 * `${table}_meta`.
 */
export function scratchLoad(
  prefix: string,
): { url: string; table: string; meta: string } {
  const table = scratchTable(prefix);
  return { url: databaseUrl(), table, meta: `${table}_meta` };
}

/**
 * The command line of a load of `path` into `table` on the test server:
 * `ingest PATH --table T --db DATABASE_URL`, then `more`.
 */
export function ingestArgs(
  path: string,
  table: string,
  ...more: string[]
): string[] {
  return ["ingest", path, "--table", table, "--db", databaseUrl(), ...more];
}

/** Runs SQL on the server at `url` and returns the rows. */
export async function query(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  // A connection the server ends (a restart, a crash) fails the query;
  // the client's own error event must not also end the test process.
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Runs SQL on the test server and returns the rows. */
export async function sql(
  text: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  return await query(databaseUrl(), text, params);
}

/**
 * Writes `content` to a new temp file.
 *
 * @param content The text (written as UTF-8) or the bytes.
 * @param suffix The file name's end. Default `.csv`.
 * @returns The file's path.
 */
export async function writeTemp(
  content: string | Uint8Array,
  suffix = ".csv",
): Promise<string> {
  const path = await Deno.makeTempFile({ suffix });
  if (typeof content === "string") await Deno.writeTextFile(path, content);
  else await Deno.writeFile(path, content);
  return path;
}

/**
 * Removes an embedded database's data directory and its lock file (if
 * any).
 */
export async function removeDataDir(dataDir: string): Promise<void> {
  await Deno.remove(dataDir, { recursive: true });
  await Deno.remove(`${dataDir}.lock`).catch(() => {});
}

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** How to start the CLI. */
export interface CliOptions {
  /** Extra environment (`NO_COLOR=1` is always set). */
  env?: Record<string, string>;
  /** The working directory. Default: the repository root. */
  cwd?: string;
}

/** Spawns `deno run -A src/cli/main.ts ...args`, stdout and stderr piped. */
function spawnCli(
  args: string[],
  options: CliOptions & { stdin: boolean },
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}src/cli/main.ts`, ...args],
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Writes `stdin` (if any) to `child`, and returns what it printed and its exit code. */
async function outputOf(
  child: Deno.ChildProcess,
  stdin: Uint8Array | string | undefined,
): Promise<CliResult> {
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(
      typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin,
    );
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/**
 * Runs `deno run -A src/cli/main.ts ...args` to its end.
 *
 * @param args The command line after the program name.
 * @param options Standard input bytes, extra environment, working directory.
 */
export async function runCli(
  args: string[],
  options: CliOptions & { stdin?: Uint8Array | string } = {},
): Promise<CliResult> {
  const child = spawnCli(args, {
    ...options,
    stdin: options.stdin !== undefined,
  });
  return await outputOf(child, options.stdin);
}

/**
 * Runs the CLI on the embedded database in `dataDir`: `--data-dir DIR`
 * after `args`, and `DATABASE_URL` empty, so no server is used.
 *
 * @param dataDir The embedded database's directory.
 * @param args The command line after the program name.
 * @param options As for {@linkcode runCli}.
 */
export async function runEmbedded(
  dataDir: string,
  args: string[],
  options: CliOptions & { stdin?: Uint8Array | string } = {},
): Promise<CliResult> {
  return await runCli([...args, "--data-dir", dataDir], {
    ...options,
    env: { DATABASE_URL: "", ...options.env },
  });
}

/**
 * The rows `sql TEXT --json` prints on the embedded database in `dataDir`
 * (one JSON object a line); asserts the run succeeded.
 */
export async function embeddedRows(
  dataDir: string,
  text: string,
): Promise<Record<string, unknown>[]> {
  const result = await runEmbedded(dataDir, ["sql", text, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim().split("\n").map((line) => JSON.parse(line));
}

/** Runs psql against the test server with `-v ON_ERROR_STOP=1`. */
export async function psql(
  args: string[],
  stdin?: Uint8Array,
): Promise<CliResult> {
  const child = new Deno.Command("psql", {
    args: [databaseUrl(), "-X", "-q", "-v", "ON_ERROR_STOP=1", ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return await outputOf(child, stdin);
}

/** A CLI run in a child process, its stderr collected as it comes. */
export interface Loader {
  /** The child. */
  child: Deno.ChildProcess;
  /** Its exit status; resolves once stderr is read to its end too. */
  status: Promise<Deno.CommandStatus>;
  /** Whether it has exited. */
  readonly exited: boolean;
  /** Its stderr so far. */
  readonly stderr: string;
  /** Its stdout, once it has exited. */
  stdout(): Promise<string>;
  /** How many stderr lines so far match `pattern`. */
  count(pattern: RegExp): number;
  /** Its stderr lines from the first, each as soon as it ends. */
  lines(): AsyncGenerator<string>;
  /** Writes `text` to its stdin (started with `stdin: true`). */
  write(text: string): Promise<void>;
  /** Closes its stdin (started with `stdin: true`). */
  closeStdin(): Promise<void>;
  /** Kills it (SIGKILL) unless it has exited, and waits for its exit. */
  stop(): Promise<void>;
}

/** Loaders started and not yet exited. */
const running = new Set<Loader>();

/**
 * Kills (SIGKILL) every loader {@linkcode startCli} started that is still
 * running, and waits for them: a failed test leaves no load behind.
 */
export async function stopLoaders(): Promise<void> {
  await Promise.all([...running].map((loader) => loader.stop()));
}

/**
 * Starts `deno run -A src/cli/main.ts ...args` (the loader itself, no wrapper:
 * a signal lands on the process holding the connection).
 *
 * @param args The command line after the program name.
 * @param options `stdin: true` for a standard input the test writes (else
 * none), extra environment, working directory.
 * @returns The running loader.
 */
export function startCli(
  args: string[],
  options: CliOptions & { stdin?: boolean } = {},
): Loader {
  const child = spawnCli(args, { ...options, stdin: options.stdin ?? false });
  const stdin = options.stdin ? child.stdin.getWriter() : undefined;
  const encoder = new TextEncoder();
  let stderr = "";
  let ended = false;
  let exited = false;
  // Settled (and replaced) whenever more stderr has come, or it has ended.
  let more = Promise.withResolvers<void>();
  const stdout = new Response(child.stdout).text();
  const read = (async () => {
    try {
      for await (
        const text of child.stderr.pipeThrough(new TextDecoderStream())
      ) {
        stderr += text;
        more.resolve();
        more = Promise.withResolvers();
      }
    } finally {
      ended = true;
      more.resolve();
    }
  })();
  const status = Promise.all([child.status, read]).then(([status]) => {
    exited = true;
    running.delete(loader);
    return status;
  });
  const loader: Loader = {
    child,
    status,
    get exited() {
      return exited;
    },
    get stderr() {
      return stderr;
    },
    stdout: () => stdout,
    count: (pattern) =>
      stderr.split("\n").filter((line) => pattern.test(line)).length,
    async *lines() {
      let at = 0;
      while (true) {
        const end = stderr.indexOf("\n", at);
        if (end >= 0) {
          yield stderr.slice(at, end);
          at = end + 1;
        } else if (ended) {
          if (at < stderr.length) yield stderr.slice(at);
          return;
        } else {
          await more.promise;
        }
      }
    },
    async write(text) {
      if (!stdin) throw new Error("The loader was started without stdin");
      await stdin.write(encoder.encode(text));
    },
    async closeStdin() {
      if (!stdin) throw new Error("The loader was started without stdin");
      await stdin.close();
    },
    async stop() {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch { /* it has just exited */ }
      }
      await status;
    },
  };
  running.add(loader);
  return loader;
}

/**
 * A test that runs loads in child processes ({@linkcode startCli}) or
 * breaks them: the resource and op sanitizers are off, and every loader
 * still running at its end is killed ({@linkcode stopLoaders}).
 *
 * @param name The test's name.
 * @param fn The test.
 */
export function loaderTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      try {
        await fn();
      } finally {
        await stopLoaders();
      }
    },
  });
}
