/**
 * `lanecopy sql`: one statement where ingest loads, its rows printed.
 *
 * @module
 */

import { ExitCode } from "../errors.ts";
import { openTarget } from "../target/open_target.ts";
import { DATABASE_OPTIONS, onePositional, parseCommandLine } from "./args.ts";
import { callerCwd, databaseUrl } from "./environment.ts";
import { formatTable } from "./format_table.ts";
import { printHelp, SQL_HELP } from "./help.ts";
import { databaseLine } from "./progress.ts";
import { jsonFromText } from "./json_output.ts";
import { runStatements, type StatementResult } from "./simple_query.ts";

/**
 * Runs `lanecopy sql`: the statements of one string (several may be
 * separated by `;`) on the database ingest loads into (the embedded one
 * unless `--db` or `DATABASE_URL`). Each statement that returns rows prints
 * them as a table (NULL as `NULL`; see {@linkcode formatTable}), each other
 * one its command tag (`INSERT 0 3`, `CREATE TABLE`); with `--json`, every
 * row is one JSON object a line, typed the same on either database (see
 * {@linkcode jsonFromText}), and tags are left out.
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
  const { values, positionals } = parseCommandLine("sql", args, {
    ...DATABASE_OPTIONS,
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return printHelp(SQL_HELP);
  const statement = onePositional(positionals, "a statement", SQL_HELP);
  const target = await openTarget({
    db: databaseUrl(values.db),
    dataDir: values["data-dir"],
    cwd: callerCwd,
  });
  console.error(databaseLine(target));
  try {
    const results = await runStatements(
      target,
      statement,
      (notice) => console.error(`lanecopy: NOTICE: ${notice}`),
    );
    if (values.json) {
      for (const line of jsonLines(results)) console.log(line);
    } else if (results.length > 0) {
      console.log(textOutput(results));
    }
    return ExitCode.Ok;
  } finally {
    await target.close();
  }
}

/** Every row of the results as one JSON object a line, keyed by column name. */
function* jsonLines(results: StatementResult[]): Generator<string> {
  for (const { columns = [], rows } of results) {
    for (const row of rows) {
      yield JSON.stringify(
        Object.fromEntries(
          columns.map((column, i) => [
            column.name,
            jsonFromText(row[i], column.typeId),
          ]),
        ),
      );
    }
  }
}

/**
 * Each statement's table (and a blank line after it when more follows), or
 * its command tag, as psql prints them.
 */
function textOutput(results: StatementResult[]): string {
  return results.map(({ tag, columns, rows }, i) => {
    if (columns === undefined) return tag;
    const table = formatTable(columns.map((column) => column.name), rows);
    return i < results.length - 1 ? `${table}\n` : table;
  }).join("\n");
}
