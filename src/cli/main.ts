/**
 * The `lanecopy` command: `ingest`, `encode`, `sql` and `status`, each in
 * its own module; this one picks the command and turns an error into its
 * message and exit code.
 *
 * @module
 */

import { ExitCode, exitCodeFor, UsageError } from "../errors.ts";
import { redact } from "../target/redact.ts";
import { runEncode } from "./encode_command.ts";
import { secretsToMask } from "./environment.ts";
import { MAIN_HELP, printHelp } from "./help.ts";
import { runIngest } from "./ingest_command.ts";
import { runSql } from "./sql_command.ts";
import { runStatus } from "./status_command.ts";

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  ingest: runIngest,
  encode: runEncode,
  sql: runSql,
  status: runStatus,
};

/**
 * Runs the command line and returns the exit code; errors are printed on
 * stderr with secrets masked.
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
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (
    command === undefined || command === "--help" || command === "-h" ||
    command === "help"
  ) {
    return printHelp(MAIN_HELP);
  }
  const run = COMMANDS[command];
  try {
    if (!run) {
      throw new UsageError(
        `Cannot run "${command}": no such command\n\n${MAIN_HELP}`,
      );
    }
    return await run(rest);
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) return ExitCode.Ok;
    const message = error instanceof Error ? error.message : String(error);
    console.error(`lanecopy: ${redact(message, secretsToMask(args))}`);
    if ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`Run "lanecopy ${command} --help" for the options.`);
      return ExitCode.Failure;
    }
    return exitCodeFor(error);
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
