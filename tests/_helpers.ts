/**
 * Shared test helpers: the real server's URL, a scratch table name, and
 * the CLI run as a child process.
 *
 * @module
 */

// @ts-types="@types/pg"
import pg from "pg";

const ROOT = new URL("..", import.meta.url).pathname;

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

/** Runs SQL on the test server and returns the rows. */
export async function sql(
  text: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** What a CLI run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run -A src/cli/main.ts ...args` from the repository root.
 *
 * @param args The command line after the program name.
 * @param options Standard input bytes, extra environment, working directory.
 */
export async function runCli(
  args: string[],
  options: {
    stdin?: Uint8Array | string;
    env?: Record<string, string>;
    cwd?: string;
  } = {},
): Promise<CliResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}src/cli/main.ts`, ...args],
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", ...options.env },
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(
      typeof options.stdin === "string"
        ? new TextEncoder().encode(options.stdin)
        : options.stdin,
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
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
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

/** The repository root, ending in `/`. */
export const REPO_ROOT = ROOT;
