/**
 * The `lanecopy` command: `ingest`, `encode` and `sql`.
 *
 * @module
 */

import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULTS } from "../defaults.ts";
import { readConfig } from "./config.ts";
import { type CopyFormat, decodeCopyRow } from "../codec/copy_row.ts";
import { CsvDecodeStream } from "../codec/decode_stream.ts";
import {
  ExitCode,
  exitCodeFor,
  InterruptedError,
  UsageError,
} from "../errors.ts";
import type { BatchEvent } from "../write/batch_writer.ts";
import { DEFAULT_META_SCHEMA } from "../bookkeeping/schema.ts";
import { DEFAULT_BATCH_SIZE, ingest } from "../ingest.ts";
import { loadStatus } from "../bookkeeping/status.ts";
import {
  type ProgressDisplay,
  progressDisplay,
  summaryLine,
} from "./progress.ts";
import { redact } from "../target/redact.ts";
import { parseInputFormat, resolveFormat } from "../source/input_format.ts";
import { openSource } from "../source/open_source.ts";
import { DEFAULT_DATA_DIR, openTarget } from "../target/open_target.ts";

const MAIN_HELP =
  `lanecopy: stream CSV or NDJSON records into PostgreSQL at COPY speed.

Usage:
  lanecopy ingest FILE… --table T [options]    load records, one transaction per batch
  lanecopy encode FILE|- [options]             print the COPY data ingest would send
  lanecopy sql "select …" [options]            run a query where ingest loads
  lanecopy status [--source-id ID] [options]   sources' progress and lanes' counters

Where rows go: --db URL, else $DATABASE_URL, else the embedded database
(PGlite, no server needed) in ${DEFAULT_DATA_DIR}.

Run "lanecopy COMMAND --help" for a command's options.
`;

const FORMAT_HELP = `Input format:
  --format F          csv or ndjson. Default: from the file's extension (.csv
                      and .tsv are CSV; .ndjson, .jsonl and .json are NDJSON;
                      a .gz suffix is looked past), else sniffed from the first
                      non-blank byte ("{" is NDJSON), standard input included
  NDJSON is one JSON object per line. Keys name the columns: --columns, else the
  target table's columns (its seq column excepted); a key that is not a column,
  or a repeated key, is bad input. Strings are unescaped; numbers, true, false,
  objects and arrays load as their JSON text, byte for byte (numeric, boolean,
  json and jsonb columns); null or a missing key is NULL. The CSV options
  below do not apply to it, except --columns and --codec.`;

const CSV_HELP = `CSV options:
  --columns a,b,c     target columns in file order; replaces the header's names
                      (the header line is still skipped unless --no-header)
  --no-header         the first line is a record, not a header (needs --columns
                      for ingest)
  --delimiter C       field delimiter, one ASCII character (default ",";
                      --delimiter tab for TSV)
  --null STRING       an unquoted field equal to STRING is NULL (default: an
                      unquoted empty field is NULL, a quoted "" is an empty string)
  --quote C           quote character, one ASCII character (default ")
  --escape C          inside quoted fields, C before the quote or before itself
                      makes it data (default: the quote, so quotes are doubled;
                      --escape '\\' for backslash escapes)
  --encoding NAME     the input's encoding (default UTF-8, the only one
                      validated here; a NUL byte is refused in any): latin1,
                      iso-8859-2 … iso-8859-16, windows-1250 … windows-1258,
                      koi8-r, koi8-u, ibm866, euc-jp, euc-kr, euc-cn, or
                      PostgreSQL's names (LATIN9, WIN1252, …); the server
                      converts the rows. Encodings in which a quote,
                      comma or backslash byte can be part of a character
                      (UTF-16, SJIS, BIG5, GBK, GB18030) are refused; NDJSON
                      is UTF-8 only
  --codec C           wasm (default: the WebAssembly codec) or ts (its
                      TypeScript twin), for CSV and NDJSON; the same rows and
                      errors either way`;

const INGEST_HELP = `Usage: lanecopy ingest FILE|- [FILE…] --table T [options]

Loads CSV (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes,
LF or CRLF, UTF-8 with or without BOM) from FILE, or standard input for -,
into table T by COPY, in batches of --batch-size rows, each batch its own
transaction. The header names the target columns (as written: case matters).
NDJSON (one JSON object per line) loads the same way: see --format below.
Several files load one after another, each its own source (its own progress
and resume). A gzip file (.gz, or any file starting with gzip's bytes) is
decompressed as it is read.

Exactly once: each batch's transaction also claims the batch's byte range of
the source, advances the source's committed prefix, reserves its lanes' seqs
and bumps their counters (bookkeeping in schema "lanecopy"). Run the same
command again after a crash or an interrupt and it resumes after the last
committed batch: it re-reads that prefix to check it is unchanged (a file
that only grew loads just the new records), then loads the rest.

Options:
  -t, --table T       target table, "table" or "schema.table" (required, here
                      or in the config file)
  --config FILE       options from a JSON or JSONC file (schema:
                      schemas/ingest.schema.json); flags override it
  --create            create the table when missing, one text column per name
  --batch-size N      rows per batch/transaction (default ${
  DEFAULT_BATCH_SIZE.toLocaleString("en-US")
})
  --flush-ms N        commit a partial batch once its oldest record has waited
                      N ms (default ${DEFAULTS.flushMs}): a live stream loads as it comes
  --db URL            PostgreSQL URL (default $DATABASE_URL; libpq variables
                      such as PGPASSWORD and PGSSLMODE fill in the rest)
  --data-dir DIR      embedded database directory (default ${DEFAULT_DATA_DIR})
  --retries N         after a lost connection to a server, reconnect up to N
                      times (backoff from 0.5 s, doubling up to 8 s), keeping
                      the batch in hand (default ${DEFAULTS.retries}; 0 gives up at once)
  -q, --quiet         no progress bar, no summary line, no notices (resuming,
                      restarting, reconnecting); errors still go to stderr
  --json              print the summary as one JSON object on stdout
  -v, --verbose       one line per batch step on stderr (start, commit-sent,
                      committed, skipped)
  --atomic            load everything in one transaction, like psql -1: all
                      rows or none. A failed or interrupted run leaves nothing
                      behind, so there is no resume: run it again from the start

Lanes and resuming:
  --lane COLUMN       each record's lane is its COLUMN field; rows get gapless
                      seqs per lane, in input order, in --seq-column (which the
                      table must have; --create adds it as bigint). Without
                      --lane all rows count in one lane, "default", and seqs
                      are written only if the table has the seq column
  --seq-column NAME   the column receiving each row's seq (default lane_seq)
  --parallel N        N writers load at once, each on its own connection
                      (default 1; needs --lane and a server). Lanes are hashed
                      to writers (FNV-1a 32 of the lane key's UTF-8 bytes,
                      modulo N), so a lane is always written by one writer, in
                      input order. Each writer keeps its own resume point (the
                      end of the last record it committed); a resume reads from
                      the smallest and each writer skips what it has. A source
                      that is not complete resumes only with the N it was
                      loaded with (exit 4 otherwise; --restart loads it again)
  --source-id ID      the name progress is kept under (default: the file's real
                      path plus the table). Standard input resumes only with
                      --source-id, and then the producer must send the stream
                      again from its very start; without it each run of - is
                      a new source
  --restart           load the source again from its start: clears its
                      progress (not its rows) in the first batch's transaction
  --wait              if another run is loading the same source, wait for it,
                      then resume (default: refuse with exit code 4)
  --meta-schema NAME  schema of the bookkeeping tables (default lanecopy)

Bad rows:
  --reject-file PATH  malformed records (bad CSV or NDJSON, invalid UTF-8, a
                      NUL byte, a NULL lane key) and rows the server rejects (a
                      bad value, a constraint) are copied to PATH byte for byte,
                      with PATH.log (JSON lines: kind, line, column, reason,
                      source offsets), and the rest loads; a malformed record
                      ends at the first line break after its error outside
                      quotes. A resumed run adds no duplicates. Exit code 3
                      when any were rejected. Without it, the first malformed
                      or rejected record stops the load (exit 2)
  --max-rejects N     with --reject-file: stop at a committed, resumable point
                      (exit 2) once more than N records were rejected in a run

${FORMAT_HELP}

${CSV_HELP}

Exit codes:
  0  every row committed
  1  anything else: connection, permissions, a missing table, internal
  2  bad input or a row the server rejected: the error names file:line:column;
     batches before it stay committed
  3  the load completed and records were rejected into --reject-file
  4  refused before loading: the source is busy, what was loaded from it
     changed (its bytes or its options; --restart loads it again), or
     --parallel cannot be used (another N on an incomplete source, the
     embedded database, no --lane)
  130, 143  stopped by SIGINT (Ctrl-C) or SIGTERM: the batch in flight
     finished, nothing is half-committed; run the same command to resume.
     A second signal stops at once (the batch in flight rolls back)

Examples:
  lanecopy ingest examples/orders.csv --table orders --create
  cat orders.csv | lanecopy ingest - --table sales.orders --db postgres://app@db/shop
`;

const ENCODE_HELP = `Usage: lanecopy encode FILE|- [options]

Writes to stdout exactly the COPY data ingest would send for FILE's records
(the header is not part of it): the codec's view, and a dry run. Nothing else
goes to stdout.

Options:
  --copy-format F     text (default, what ingest sends) or csv
${FORMAT_HELP}

${CSV_HELP}

Example:
  lanecopy encode orders.csv | psql -c "\\copy orders from stdin"
`;

const SQL_HELP = `Usage: lanecopy sql "STATEMENT" [options]

Runs one statement where ingest loads (the embedded database unless --db or
$DATABASE_URL) and prints the rows.

Options:
  --db URL            PostgreSQL URL (default $DATABASE_URL)
  --data-dir DIR      embedded database directory (default ${DEFAULT_DATA_DIR})
  --json              print rows as JSON, one object per line

Example:
  lanecopy sql "select count(*) from orders"
`;

const CSV_OPTIONS = {
  columns: { type: "string" },
  "no-header": { type: "boolean" },
  delimiter: { type: "string" },
  null: { type: "string" },
  quote: { type: "string" },
  escape: { type: "string" },
  encoding: { type: "string" },
  format: { type: "string" },
  codec: { type: "string" },
} as const;

const DATABASE_OPTIONS = {
  db: { type: "string" },
  "data-dir": { type: "string" },
  json: { type: "boolean" },
} as const;

/** The caller's directory: under `deno task`, where the task was started. */
const callerCwd = Deno.env.get("LANECOPY_CWD") || Deno.cwd();

/** The server `--db` names, else `DATABASE_URL`; none means the embedded database. */
function databaseUrl(db: string | undefined): string | undefined {
  return db ?? Deno.env.get("DATABASE_URL");
}

/** Connection strings read from a config file: masked like --db's. */
const configSecrets: string[] = [];

async function runIngest(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...CSV_OPTIONS,
      ...DATABASE_OPTIONS,
      table: { type: "string", short: "t" },
      create: { type: "boolean" },
      "batch-size": { type: "string" },
      "flush-ms": { type: "string" },
      "reject-file": { type: "string" },
      atomic: { type: "boolean" },
      retries: { type: "string" },
      parallel: { type: "string" },
      "max-rejects": { type: "string" },
      config: { type: "string" },
      lane: { type: "string" },
      "seq-column": { type: "string" },
      "source-id": { type: "string" },
      "meta-schema": { type: "string" },
      restart: { type: "boolean" },
      wait: { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
      quiet: { type: "boolean", short: "q" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return help(INGEST_HELP);
  const files = sourcePaths(positionals, values["source-id"]);
  // Flags override the config file.
  const config = values.config === undefined
    ? {}
    : await readConfig(resolve(callerCwd, values.config), values.config);
  if (config.db) configSecrets.push(config.db);
  const table = values.table ?? config.table;
  if (!table) {
    throw new UsageError("Cannot ingest without --table (or a config's table)");
  }
  const columns = splitColumns(values.columns) ?? config.columns;
  const header = values["no-header"] ? false : config.header ?? true;
  if (!header && !columns) {
    throw new UsageError("Cannot ingest with --no-header without --columns");
  }
  const batchSize = positiveInteger(values["batch-size"], "--batch-size") ??
    config.batchSize;
  const flushMs = positiveInteger(values["flush-ms"], "--flush-ms") ??
    config.flushMs;
  const rejectFile = values["reject-file"] ?? config.rejectFile;
  const maxRejects = wholeNumber(values["max-rejects"], "--max-rejects") ??
    config.maxRejects;
  if (maxRejects !== undefined && rejectFile === undefined) {
    throw new UsageError(
      "Cannot use --max-rejects without --reject-file: without one, the first rejected row stops the load",
    );
  }
  const format = parseInputFormat(values.format) ?? config.format;
  let display: ProgressDisplay | undefined;
  const stop = stopOnSignals(() => display?.stop());
  let rejected = 0;
  const done: string[] = [];
  try {
    for (const file of files) {
      const source = await openSource(file, callerCwd);
      display = values.quiet ? undefined : await progressDisplay(source.size);
      const summary = await ingest({
        signal: stop.signal,
        source,
        sourceId: values["source-id"] ?? config.sourceId,
        table,
        lane: values.lane ?? config.lane,
        seqColumn: values["seq-column"] ?? config.seqColumn,
        metaSchema: values["meta-schema"] ?? config.metaSchema,
        restart: values.restart,
        wait: values.wait ?? config.wait,
        columns,
        header,
        format,
        delimiter: delimiter(values.delimiter) ?? config.delimiter,
        nullString: values.null ?? config.nullString,
        quote: values.quote ?? config.quote,
        escape: values.escape ?? config.escape,
        encoding: values.encoding ?? config.encoding,
        codec: codec(values.codec) ?? config.codec,
        batchSize,
        flushMs,
        rejectFile,
        maxRejects,
        atomic: values.atomic ?? config.atomic,
        parallel: positiveInteger(values.parallel, "--parallel") ??
          config.parallel,
        retries: wholeNumber(values.retries, "--retries") ?? config.retries,
        create: values.create ?? config.create,
        db: databaseUrl(values.db ?? config.db),
        dataDir: values["data-dir"] ?? config.dataDir,
        cwd: callerCwd,
        onProgress: display?.update,
        onEvent: values.verbose ? logBatchEvent : undefined,
        onNotice: values.quiet ? undefined : (message) => {
          display?.stop();
          console.error(`lanecopy: ${message}`);
        },
      });
      display?.stop();
      if (values.json) console.log(JSON.stringify(summary));
      if (!values.quiet) console.error(summaryLine(summary));
      rejected += summary.rejected;
      done.push(file);
    }
    return rejected > 0 ? ExitCode.Rejects : ExitCode.Ok;
  } catch (error) {
    display?.stop();
    if (files.length > 1 && !values.quiet) {
      console.error(
        `lanecopy: ${done.length} of ${files.length} files loaded${
          done.length > 0 ? ` (${done.join(", ")})` : ""
        }; stopped at ${files[done.length]}, the rest not started`,
      );
    }
    throw error;
  } finally {
    stop.release();
    display?.stop();
  }
}

/**
 * The files of one ingest, each its own source (with its own progress):
 * at least one, standard input (`-`) at most once, and one `--source-id`
 * only for one source.
 */
function sourcePaths(positionals: string[], sourceId?: string): string[] {
  if (positionals.length === 0) {
    throw new UsageError(
      `Cannot run: expected FILE (or - for stdin), got none\n\n${INGEST_HELP}`,
    );
  }
  if (positionals.filter((path) => path === "-").length > 1) {
    throw new UsageError("Cannot read standard input (-) twice in one run");
  }
  if (positionals.length > 1 && sourceId !== undefined) {
    throw new UsageError(
      "Cannot use one --source-id for several files: each file is its own source (its id is its real path plus the table)",
    );
  }
  return positionals;
}

/**
 * SIGINT and SIGTERM stop a load cleanly: the first lets the batch in flight
 * finish and aborts the returned signal (ingest then exits 130 or 143 saying
 * how to resume); a second stops at once, and the server rolls that batch
 * back.
 */
function stopOnSignals(
  beforeMessage: () => void,
): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const listeners = (["SIGINT", "SIGTERM"] as const).map((name) => {
    const listener = () => {
      beforeMessage();
      const error = new InterruptedError(name);
      if (controller.signal.aborted) {
        console.error(
          `lanecopy: ${name} again: stopping now; the batch in flight rolls back, and a re-run resumes before it`,
        );
        Deno.exit(error.exitCode);
      }
      console.error(
        `lanecopy: ${name}: stopping after the batch in flight (send it again to stop at once)`,
      );
      controller.abort(error);
    };
    Deno.addSignalListener(name, listener);
    return [name, listener] as const;
  });
  return {
    signal: controller.signal,
    release: () => {
      for (const [name, listener] of listeners) {
        Deno.removeSignalListener(name, listener);
      }
    },
  };
}

/** One line per batch step on stderr (`--verbose`). */
function logBatchEvent(event: BatchEvent): void {
  const writer = event.writer === undefined ? "" : `writer ${event.writer} `;
  console.error(
    `lanecopy: ${writer}batch ${event.batch} ${event.kind} bytes ${event.startOffset}-${event.endOffset} rows ${event.rows}`,
  );
}

async function runEncode(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...CSV_OPTIONS,
      "copy-format": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return help(ENCODE_HELP);
  const file = onePositional(positionals, "FILE (or - for stdin)", ENCODE_HELP);
  const format = values["copy-format"] ?? "text";
  if (format !== "text" && format !== "csv") {
    throw new UsageError(
      `Cannot use --copy-format ${format}: expected text or csv`,
    );
  }
  const columns = splitColumns(values.columns);
  const given = parseInputFormat(values.format);
  const input = await resolveFormat(await openSource(file, callerCwd), given);
  const source = input.source;
  if (input.format === "ndjson" && columns === undefined) {
    await source.readable.cancel();
    throw new UsageError(
      "Cannot encode NDJSON without --columns: name the columns in the order the COPY rows should have them",
    );
  }
  const blocks = source.readable.pipeThrough(
    new CsvDecodeStream({
      source: source.name,
      format: input.format,
      columns: input.format === "ndjson" ? columns : undefined,
      delimiter: delimiter(values.delimiter),
      nullString: values.null,
      quote: values.quote,
      escape: values.escape,
      encoding: values.encoding,
      codec: codec(values.codec),
      header: !values["no-header"],
      fieldCount: columns?.length,
      copyFormat: format as CopyFormat,
    }),
  );
  const stdout = Deno.stdout.writable.getWriter();
  for await (const block of blocks) {
    await stdout.write(block.data);
    if (block.error) throw block.error;
  }
  return ExitCode.Ok;
}

const STATUS_HELP = `Usage: lanecopy status [--source-id ID] [options]

Shows what the bookkeeping holds: each source with its committed prefix
(byte_offset, rows_committed, lines_committed, complete), and each lane with
its next_seq and row_count. With --source-id, only that source and the lanes
of its target.

Options:
  --source-id ID      only this source
  --meta-schema NAME  schema of the bookkeeping tables (default lanecopy)
  --db URL            PostgreSQL URL (default $DATABASE_URL)
  --data-dir DIR      embedded database directory (default ${DEFAULT_DATA_DIR})
  --json              print {"sources": [...], "lanes": [...]} on stdout
`;

async function runStatus(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...DATABASE_OPTIONS,
      "source-id": { type: "string" },
      "meta-schema": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return help(STATUS_HELP);
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
  try {
    const status = await loadStatus(
      target,
      values["meta-schema"] ?? DEFAULT_META_SCHEMA,
      values["source-id"],
    );
    if (values.json) {
      console.log(JSON.stringify({
        sources: status.sources.rows,
        lanes: status.lanes.rows,
      }));
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

async function runSql(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...DATABASE_OPTIONS, help: { type: "boolean", short: "h" } },
  });
  if (values.help) return help(SQL_HELP);
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

/** Rows as an aligned text table, the way psql prints them. */
function formatTable(
  fields: string[],
  rows: Record<string, unknown>[],
): string {
  const cells = rows.map((row) => fields.map((field) => showValue(row[field])));
  const widths = fields.map((field, i) =>
    Math.max(field.length, ...cells.map((cell) => cell[i].length))
  );
  const line = (values: string[]) =>
    values.map((value, i) => value.padEnd(widths[i])).join(" | ").trimEnd();
  return [
    line(fields),
    widths.map((width) => "-".repeat(width)).join("-+-"),
    ...cells.map(line),
    `(${rows.length} row${rows.length === 1 ? "" : "s"})`,
  ].join("\n");
}

function showValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function help(text: string): number {
  console.log(text);
  return ExitCode.Ok;
}

function onePositional(
  positionals: string[],
  what: string,
  usage: string,
): string {
  if (positionals.length !== 1) {
    throw new UsageError(
      `Cannot run: expected ${what}, got ${
        positionals.length === 0 ? "none" : positionals.join(" ")
      }\n\n${usage}`,
    );
  }
  return positionals[0];
}

function splitColumns(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const columns = decodeCopyRow(value, "csv").map((name) => name ?? "");
  if (columns.some((name) => name === "")) {
    throw new UsageError(`Cannot use --columns "${value}": a name is empty`);
  }
  return columns;
}

function codec(value: string | undefined): "wasm" | "ts" | undefined {
  if (value === undefined || value === "wasm" || value === "ts") return value;
  throw new UsageError(`Cannot use --codec ${value}: expected wasm or ts`);
}

function delimiter(value: string | undefined): string | undefined {
  return value === "tab" || value === "\\t" ? "\t" : value;
}

function positiveInteger(
  value: string | undefined,
  flag: string,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value.replaceAll("_", ""));
  if (!Number.isInteger(number) || number < 1) {
    throw new UsageError(
      `Cannot use ${flag} ${value}: expected a positive whole number`,
    );
  }
  return number;
}

function wholeNumber(
  value: string | undefined,
  flag: string,
): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value.replaceAll("_", ""));
  if (!Number.isInteger(number) || number < 0) {
    throw new UsageError(
      `Cannot use ${flag} ${value}: expected a whole number, 0 or more`,
    );
  }
  return number;
}

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
    return help(MAIN_HELP);
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
    const secrets = [
      ...configSecrets,
      ...args.filter((arg) => arg.includes("://")),
      Deno.env.get("DATABASE_URL") ?? "",
      Deno.env.get("PGPASSWORD") ?? "",
    ].filter((secret) => secret.length > 0);
    console.error(`lanecopy: ${redact(message, secrets)}`);
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
