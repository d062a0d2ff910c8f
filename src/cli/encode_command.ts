/**
 * `lanecopy encode`: the COPY data ingest would send for a file, on
 * stdout.
 *
 * @module
 */

import type { CopyFormat } from "../codec/copy_row.ts";
import { CsvDecodeStream } from "../codec/decode_stream.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { parseInputFormat, resolveFormat } from "../source/input_format.ts";
import { openSource } from "../source/open_source.ts";
import {
  CSV_OPTIONS,
  onePositional,
  parseCodec,
  parseColumns,
  parseCommandLine,
  parseDelimiter,
} from "./args.ts";
import { callerCwd } from "./environment.ts";
import { ENCODE_HELP, printHelp } from "./help.ts";

/**
 * Runs `lanecopy encode`: writes to stdout exactly the COPY data ingest
 * would send for the file's records (the header is not part of it), and
 * nothing else.
 *
 * @param args The arguments after `encode`.
 * @returns The exit code: 0.
 * @throws {UsageError} If the command line is wrong, or the error that
 * stopped the encoding (a malformed record, an unreadable file).
 *
 * @example Usage
 * ```ts
 * import { runEncode } from "./encode_command.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(
 *   runEncode(["-", "--copy-format", "binary"]),
 *   /Cannot use --copy-format binary: expected text or csv/,
 * );
 * ```
 */
export async function runEncode(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine("encode", args, {
    ...CSV_OPTIONS,
    "copy-format": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return printHelp(ENCODE_HELP);
  const file = onePositional(positionals, "FILE (or - for stdin)", ENCODE_HELP);
  const format = values["copy-format"] ?? "text";
  if (format !== "text" && format !== "csv") {
    throw new UsageError(
      `Cannot use --copy-format ${format}: expected text or csv`,
    );
  }
  const columns = parseColumns(values.columns);
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
      columns,
      delimiter: parseDelimiter(values.delimiter) ?? input.delimiter,
      nullString: values.null,
      quote: values.quote,
      escape: values.escape,
      encoding: values.encoding,
      codec: parseCodec(values.codec),
      header: !values["no-header"],
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
