/**
 * `lanecopy status`: the sources' committed progress and the lanes'
 * counters, as the bookkeeping holds them.
 *
 * @module
 */

import { DEFAULT_META_SCHEMA } from "../bookkeeping/schema.ts";
import { loadStatus } from "../bookkeeping/status.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { openTarget } from "../target/open_target.ts";
import { DATABASE_OPTIONS, parseCommandLine } from "./args.ts";
import { callerCwd, databaseUrl } from "./environment.ts";
import { formatTable } from "./format_table.ts";
import { printHelp, STATUS_HELP } from "./help.ts";
import { databaseLine } from "./progress.ts";
import { jsonValue } from "./json_output.ts";

/**
 * Runs `lanecopy status`: each source with its committed prefix, and each
 * lane with its next seq and row count (with `--source-id`, that source and
 * the lanes of its target), as tables or as one JSON object.
 *
 * @param args The arguments after `status`.
 * @returns The exit code: 0.
 * @throws {UsageError} If the command line is wrong, or the database's
 * error.
 *
 * @example Usage
 * ```ts
 * import { runStatus } from "./status_command.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(runStatus(["orders"]), /Cannot run status: unexpected orders/);
 * ```
 */
export async function runStatus(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine("status", args, {
    ...DATABASE_OPTIONS,
    "source-id": { type: "string" },
    "meta-schema": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return printHelp(STATUS_HELP);
  if (positionals.length > 0) {
    throw new UsageError(
      `Cannot run status: unexpected ${
        positionals.join(" ")
      }\n\n${STATUS_HELP}`,
    );
  }
  const target = await openTarget({
    db: databaseUrl(values.db),
    dataDir: values["data-dir"],
    cwd: callerCwd,
  });
  console.error(databaseLine(target));
  try {
    const status = await loadStatus(
      target,
      values["meta-schema"] ?? DEFAULT_META_SCHEMA,
      values["source-id"],
    );
    if (values.json) {
      console.log(JSON.stringify(jsonValue({
        sources: status.sources.rows,
        lanes: status.lanes.rows,
      })));
    } else {
      console.log("Sources:");
      console.log(formatTable(status.sources.fields, status.sources.rows));
      console.log("\nLanes:");
      console.log(formatTable(status.lanes.fields, status.lanes.rows));
    }
    return ExitCode.Ok;
  } finally {
    await target.close();
  }
}
