/**
 * `lanecopy sql`: one statement where ingest loads, its rows printed.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ExitCode } from "../errors.ts";
import { openTarget } from "../target/open_target.ts";
import { DATABASE_OPTIONS, onePositional } from "./args.ts";
import { callerCwd, databaseUrl } from "./environment.ts";
import { formatTable } from "./format_table.ts";
import { printHelp, SQL_HELP } from "./help.ts";

/**
 * Runs `lanecopy sql`: one statement on the database ingest loads into (the
 * embedded one unless `--db` or `DATABASE_URL`), its rows printed as a
 * table, or as JSON lines with `--json`.
 *
 * @param args The arguments after `sql`.
 * @returns The exit code: 0.
 * @throws {UsageError} If the command line is wrong, or the database's
 * error.
 *
 * @example Usage
 * ```ts
 * import { runSql } from "./sql_command.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(runSql([]), /Cannot run: expected a statement, got none/);
 * ```
 */
export async function runSql(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...DATABASE_OPTIONS, help: { type: "boolean", short: "h" } },
  });
  if (values.help) return printHelp(SQL_HELP);
  const statement = onePositional(positionals, "a statement", SQL_HELP);
  const target = await openTarget({
    db: databaseUrl(values.db),
    dataDir: values["data-dir"],
    cwd: callerCwd,
  });
  try {
    const { rows, fields } = await target.query(statement);
    if (values.json) {
      for (const row of rows) console.log(JSON.stringify(row));
    } else if (fields.length > 0) {
      console.log(formatTable(fields, rows));
    }
    return ExitCode.Ok;
  } finally {
    await target.close();
  }
}
