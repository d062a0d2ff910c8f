/**
 * `lanecopy ingest`: load files (or standard input) into a table, one
 * transaction per batch, with a progress bar and a summary line.
 *
 * @module
 */

import { resolve } from "node:path";
import { ExitCode, UsageError } from "../errors.ts";
import { ingest } from "../ingest.ts";
import { parseInputFormat } from "../source/input_format.ts";
import { openSource } from "../source/open_source.ts";
import type { IngestSummary } from "../ingest_options.ts";
import type { BatchEvent } from "../write/batch_writer.ts";
import {
  columnEntries,
  CSV_OPTIONS,
  DATABASE_OPTIONS,
  parseCodec,
  parseColumns,
  parseCommandLine,
  parseDelimiter,
  parseExtraPolicy,
  positiveInteger,
  splitColumns,
  wholeNumber,
} from "./args.ts";
import { readConfig } from "./config.ts";
import { count } from "./count.ts";
import { addSecret, callerCwd, databaseUrl } from "./environment.ts";
import { INGEST_HELP, printHelp } from "./help.ts";
import { jsonValue } from "./json_output.ts";
import {
  type ProgressDisplay,
  progressDisplay,
  summaryLine,
} from "./progress.ts";
import { stopOnSignals } from "./stop_on_signals.ts";

/**
 * Runs `lanecopy ingest`: loads each file given (`-` for standard input),
 * one after another, each its own source. Flags override the config file's
 * options (`--config`).
 *
 * @param args The arguments after `ingest`.
 * @returns The exit code: 0 when every row loaded, 3 when some were
 * rejected into `--reject-file`.
 * @throws {UsageError} If the command line is wrong, or any error that
 * stopped the load (the caller prints it and picks the exit code).
 *
 * @example Usage
 * ```ts
 * import { runIngest } from "./ingest_command.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   runIngest(["orders.csv"]),
 *   /Cannot ingest without --table \(or a config's table\)/,
 * );
 * await assert.rejects(
 *   runIngest(["orders.csv", "--table", "orders", "--batch-size", "0"]),
 *   /Cannot use --batch-size 0: expected a positive whole number/,
 * );
 * ```
 */
export async function runIngest(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine("ingest", args, {
    ...CSV_OPTIONS,
    ...DATABASE_OPTIONS,
    table: { type: "string", short: "t" },
    create: { type: "boolean" },
    "no-infer": { type: "boolean" },
    "extra-columns": { type: "string" },
    "extra-keys": { type: "string" },
    "batch-size": { type: "string" },
    "flush-ms": { type: "string" },
    "reject-file": { type: "string" },
    atomic: { type: "boolean" },
    "dry-run": { type: "boolean" },
    retries: { type: "string" },
    parallel: { type: "string" },
    routing: { type: "string" },
    "on-conflict": { type: "string" },
    key: { type: "string" },
    replace: { type: "boolean" },
    "copy-format": { type: "string" },
    "distribute-by": { type: "string" },
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
  });
  if (values.help) return printHelp(INGEST_HELP);
  const files = sourcePaths(positionals, values["source-id"]);
  // Flags override the config file.
  const config = values.config === undefined
    ? {}
    : await readConfig(resolve(callerCwd, values.config), values.config);
  if (config.db) addSecret(config.db);
  const table = values.table ?? config.table;
  if (!table) {
    throw new UsageError("Cannot ingest without --table (or a config's table)");
  }
  const columns = parseColumns(values.columns) ??
    columnEntries(config.columns);
  const header = values["no-header"] ? false : config.header ?? true;
  if (!header && !columns) {
    throw new UsageError("Cannot ingest with --no-header without --columns");
  }
  if (
    !header &&
    columns?.some((entry) => entry !== null && typeof entry === "object")
  ) {
    throw new UsageError(
      "Cannot use field:column in --columns with --no-header: without a header the fields have no names (give one column per field in file order, - to skip one)",
    );
  }
  const extraColumns =
    parseExtraPolicy(values["extra-columns"], "--extra-columns") ??
      config.extraColumns;
  const extraKeys = parseExtraPolicy(values["extra-keys"], "--extra-keys") ??
    config.extraKeys;
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
  const started = performance.now();
  const summaries: IngestSummary[] = [];
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
        extraColumns,
        extraKeys,
        header,
        format,
        delimiter: parseDelimiter(values.delimiter) ?? config.delimiter,
        nullString: values.null ?? config.nullString,
        quote: values.quote ?? config.quote,
        escape: values.escape ?? config.escape,
        encoding: values.encoding ?? config.encoding,
        codec: parseCodec(values.codec) ?? config.codec,
        batchSize,
        flushMs,
        rejectFile,
        maxRejects,
        atomic: values.atomic ?? config.atomic,
        dryRun: values["dry-run"],
        parallel: positiveInteger(values.parallel, "--parallel") ??
          config.parallel,
        routing: parseRouting(values.routing) ?? config.routing,
        retries: wholeNumber(values.retries, "--retries") ?? config.retries,
        onConflict: (values["on-conflict"] ?? config.onConflict) as
          | "nothing"
          | "update"
          | undefined,
        key: parseKey(values.key) ?? config.key,
        replace: values.replace ?? config.replace,
        copyFormat: parseCopyFormat(values["copy-format"]) ??
          config.copyFormat,
        distributeBy: values["distribute-by"],
        create: values.create ?? config.create,
        infer: !values["no-infer"],
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
      if (!values.quiet) console.error(summaryLine(summary));
      summaries.push(summary);
      done.push(file);
    }
    if (values.json) {
      const seconds = (performance.now() - started) / 1000;
      console.log(JSON.stringify(jsonValue(runJson(summaries, seconds))));
    }
    return summaries.some((summary) => summary.rejected > 0)
      ? ExitCode.Rejects
      : ExitCode.Ok;
  } catch (error) {
    display?.stop();
    if (files.length > 1 && !values.quiet) {
      console.error(
        `lanecopy: ${done.length} of ${count(files.length, "file")} loaded${
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

/** `--copy-format`: `text`, `binary` or `auto` (unset: the default, auto). */
function parseCopyFormat(
  value: string | undefined,
): "text" | "binary" | "auto" | undefined {
  if (
    value === undefined || value === "text" || value === "binary" ||
    value === "auto"
  ) return value;
  throw new UsageError(
    `Cannot use --copy-format ${value}: expected auto (binary where the values allow, the default), binary or text`,
  );
}

/** `--routing`: `hash` or `shards` (unset: the default, by shard where it applies). */
function parseRouting(
  value: string | undefined,
): "hash" | "shards" | undefined {
  if (value === undefined || value === "hash" || value === "shards") {
    return value;
  }
  throw new UsageError(
    `Cannot use --routing ${value}: expected shards (each lane to the writer of its Citus shard) or hash (lanes hashed to writers)`,
  );
}

/**
 * `--key a,b`: the key's columns, split as `--columns` is (quoted as in
 * CSV, for names holding a comma).
 */
function parseKey(value: string | undefined): string[] | undefined {
  const columns = splitColumns(value);
  if (columns?.some((column) => column === "")) {
    throw new UsageError(
      `Cannot use --key ${value}: a column name is empty (name the key's columns, comma-separated: --key region,id)`,
    );
  }
  return columns;
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
 * What `ingest --json` prints: one file's summary as it is; for several,
 * one object with the run's totals (`rows`, `rejected`, `batches`, `bytes`,
 * `seconds`, `rowsPerSecond`, `megabytesPerSecond`, and an upsert's
 * `inserted`, `updated`, `skipped`: the same names as a summary's) and
 * `files`, each file's summary in the order loaded.
 */
function runJson(
  summaries: IngestSummary[],
  seconds: number,
): IngestSummary | Record<string, unknown> {
  if (summaries.length === 1) return summaries[0];
  const sum = (pick: (summary: IngestSummary) => number) =>
    summaries.reduce((total, summary) => total + pick(summary), 0);
  const rows = sum((summary) => summary.rows);
  const newBytes = sum((summary) => summary.bytes - summary.resumedAt);
  return {
    table: summaries[0]?.table,
    destination: summaries[0]?.destination,
    dryRun: summaries[0]?.dryRun,
    rows,
    rejected: sum((summary) => summary.rejected),
    batches: sum((summary) => summary.batches),
    bytes: sum((summary) => summary.bytes),
    // An upsert's counts, under the same names, when the summaries have them.
    ...Object.fromEntries(
      (["inserted", "updated", "skipped"] as const)
        .filter((name) => summaries[0][name] !== undefined)
        .map((name) => [name, sum((summary) => summary[name] ?? 0)]),
    ),
    seconds,
    rowsPerSecond: seconds > 0 ? rows / seconds : 0,
    megabytesPerSecond: seconds > 0 ? newBytes / 1e6 / seconds : 0,
    files: summaries,
  };
}

/** One line per batch step on stderr (`--verbose`). */
function logBatchEvent(event: BatchEvent): void {
  const writer = event.writer === undefined ? "" : `writer ${event.writer} `;
  const format = event.binary === undefined
    ? ""
    : event.binary
    ? ", binary"
    : ", text";
  console.error(
    `lanecopy: ${writer}batch ${event.batch} ${event.kind} bytes ${event.startOffset}-${event.endOffset}, ${
      count(event.rows, "row")
    }${format}`,
  );
}
