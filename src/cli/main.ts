/**
 * The `lanecopy` command: `ingest`, `encode`, `sql` and `status`, each in
 * its own module; this one picks the command and turns an error into its
 * message and exit code (and, with `--json`, into one JSON object on
 * stdout).
 *
 * @module
 */

import { ExitCode, exitCodeFor, UsageError } from "../errors.ts";
import { redact } from "../target/redact.ts";
import { runEncode } from "./encode_command.ts";
import { secretsToMask } from "./environment.ts";
import { MAIN_HELP, printHelp } from "./help.ts";
import { runIngest } from "./ingest_command.ts";
import { errorJson } from "./json_output.ts";
import { runSql } from "./sql_command.ts";
import { runStatus } from "./status_command.ts";
import { suggest } from "./suggest.ts";
import { VERSION } from "./version.ts";

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  ingest: runIngest,
  encode: runEncode,
  sql: runSql,
  status: runStatus,
};

/**
 * Runs the command line and returns the exit code; errors are printed on
 * stderr with secrets masked, and with `--json` also on stdout as
 * `{"error": {"message", "code", …}}` (see {@linkcode errorJson}). No
 * arguments at all print the help on stderr and return 2; `--version`
 * prints `lanecopy` and the version.
 *
 * @param args The arguments after the program name.
 * @returns The exit code.
 *
 * @example Usage
 * ```ts
 * import { main } from "./main.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(await main(["--help"]), 0);
 * assert.equal(await main(["--version"]), 0);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === undefined) {
    console.error(MAIN_HELP);
    return ExitCode.BadInput;
  }
  if (command === "--help" || command === "-h" || command === "help") {
    return printHelp(MAIN_HELP);
  }
  if (command === "--version" || command === "version") {
    console.log(`lanecopy ${VERSION}`);
    return ExitCode.Ok;
  }
  const known = Object.hasOwn(COMMANDS, command);
  try {
    if (!known) throw unknownCommand(command);
    return await COMMANDS[command](rest);
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) return ExitCode.Ok;
    const secrets = secretsToMask(args);
    const message = error instanceof Error ? error.message : String(error);
    console.error(`lanecopy: ${redact(message, secrets)}`);
    const options = rest.includes("--")
      ? rest.slice(0, rest.indexOf("--"))
      : rest;
    if (known && options.includes("--json")) {
      console.log(JSON.stringify(errorJson(error, secrets)));
    }
    return exitCodeFor(error);
  }
}

/** The error for a command that does not exist, naming the nearest one. */
function unknownCommand(command: string): UsageError {
  const near = command.startsWith("-")
    ? undefined
    : suggest(command, Object.keys(COMMANDS));
  const hint = near ? `; did you mean ${near}?` : "";
  return new UsageError(
    `Cannot run "${command}": no such command${hint}\n\n${MAIN_HELP}`,
  );
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
