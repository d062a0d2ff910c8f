/**
 * The errors lanecopy raises, and the exit code each one maps to.
 *
 * @module
 */

/**
 * Exit codes, as documented in `--help` and README; {@linkcode exitCodeFor}
 * maps an error to its code.
 *
 * @example A program that exits as the CLI would
 * ```ts
 * import { ExitCode, exitCodeFor, ingest } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * let code: number = ExitCode.Ok;
 * try {
 *   await ingest({
 *     source: ReadableStream.from([new TextEncoder().encode('id\n"1\n')]),
 *     table: "t",
 *     create: true,
 *     dataDir,
 *   });
 * } catch (error) {
 *   code = exitCodeFor(error);
 * }
 * assert.equal(code, ExitCode.BadInput);
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export const ExitCode = {
  /** Every record committed. */
  Ok: 0,
  /** Connection, permissions, internal: anything not listed below. */
  Failure: 1,
  /** Bad input or a rejected row stopped the load at a committed point. */
  BadInput: 2,
  /** The load completed and rejects were written. */
  Rejects: 3,
  /** Refused before loading. */
  Refused: 4,
  /** Interrupted by SIGINT. */
  Interrupted: 130,
  /** Stopped by SIGTERM. */
  Terminated: 143,
} as const;

/**
 * A load stopped by SIGINT or SIGTERM: the batch in flight finished (or
 * rolled back), nothing is half-committed, and a re-run resumes.
 *
 * @example Usage
 * ```ts
 * import { ExitCode, InterruptedError, exitCodeFor } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const error = new InterruptedError("SIGTERM");
 * assert.equal(exitCodeFor(error), ExitCode.Terminated);
 * ```
 */
export class InterruptedError extends Error {
  /** The signal that stopped the load. */
  readonly signal: "SIGINT" | "SIGTERM";
  /** 130 for SIGINT, 143 for SIGTERM. */
  readonly exitCode: number;

  /**
   * @param signal The signal.
   * @param message What was committed and how to go on. Default: the signal's name.
   */
  constructor(signal: "SIGINT" | "SIGTERM", message?: string) {
    super(message ?? `Interrupted by ${signal}`);
    this.name = "InterruptedError";
    this.signal = signal;
    this.exitCode = signal === "SIGINT"
      ? ExitCode.Interrupted
      : ExitCode.Terminated;
  }
}

/**
 * The source failed while it was read (cut short, replaced, a read error):
 * not bad records, but no reliable end of input either. Exit code 1; the
 * batch in hand is not committed, and a re-run resumes.
 *
 * @example Usage
 * ```ts
 * import { exitCodeFor, SourceError } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * assert.equal(exitCodeFor(new SourceError("Cannot read x.csv")), 1);
 * ```
 */
export class SourceError extends Error {
  /** @param message What failed, and what was committed. */
  constructor(message: string) {
    super(message);
    this.name = "SourceError";
  }
}

/** Where a problem sits in a source: 1-based line and column (code points). */
export interface SourcePosition {
  /** The source's name: a path, or `<stdin>`. */
  source: string;
  /** 1-based physical line. */
  line: number;
  /** 1-based column, counted in code points within the line. */
  column: number;
  /** 0-based byte offset of the problem in the source. */
  offset: number;
}

/**
 * A malformed record: the input itself is wrong. Carries its position as
 * fields and names it in the message as `file:line:column`.
 *
 * @example Usage
 * ```ts
 * import { InputSyntaxError } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const error = new InputSyntaxError("Unterminated quoted field", {
 *   source: "orders.csv", line: 3, column: 7, offset: 51,
 * });
 * assert.equal(error.message, "orders.csv:3:7: Unterminated quoted field");
 * ```
 */
export class InputSyntaxError extends SyntaxError {
  /** The source's name. */
  readonly source: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column in code points. */
  readonly column: number;
  /** 0-based byte offset. */
  readonly offset: number;
  /** The reason alone, without the position. */
  readonly reason: string;

  /**
   * @param reason What is wrong, in sentence case, no final period.
   * @param position Where it is.
   */
  constructor(reason: string, position: SourcePosition) {
    const text = printable(reason);
    super(`${position.source}:${position.line}:${position.column}: ${text}`);
    this.name = "InputSyntaxError";
    this.reason = text;
    this.source = position.source;
    this.line = position.line;
    this.column = position.column;
    this.offset = position.offset;
  }
}

/**
 * A problem with the load's set-up that is the user's to fix (a missing
 * table, an unknown column, a bad flag), found before any row is sent.
 *
 * @example Usage
 * ```ts
 * import { ExitCode, UsageError } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new UsageError("Cannot load into public.t: the table does not exist");
 * assert.equal(error.exitCode, ExitCode.Failure);
 * ```
 */
export class UsageError extends Error {
  /** The exit code the CLI uses for it. */
  readonly exitCode: number;

  /**
   * @param message What is wrong and what to do about it.
   * @param exitCode The exit code; {@linkcode ExitCode.Failure} by default.
   */
  constructor(message: string, exitCode: number = ExitCode.Failure) {
    super(message);
    this.name = "UsageError";
    this.exitCode = exitCode;
  }
}

/** The fields the server sends with an error (pg and PGlite share them). */
export interface ServerErrorFields {
  message: string;
  code?: string;
  detail?: string;
  hint?: string;
  where?: string;
  column?: string;
  severity?: string;
}

/**
 * A failure the database reported. Keeps every server field, and when the
 * server named a COPY line, the source position of that record.
 *
 * @example Usage
 * ```ts
 * import { DatabaseLoadError } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const error = new DatabaseLoadError(
 *   { message: 'invalid input syntax for type integer: "x"', code: "22P02" },
 *   { source: "t.csv", line: 4, columnName: "qty" },
 * );
 * assert.equal(error.code, "22P02");
 * assert.equal(error.line, 4);
 * ```
 */
export class DatabaseLoadError extends Error {
  /** SQLSTATE. */
  readonly code?: string;
  /** The server's DETAIL. */
  readonly detail?: string;
  /** The server's HINT. */
  readonly hint?: string;
  /** The server's CONTEXT, such as `COPY t, line 2, column q: "x"`. */
  readonly where?: string;
  /** The source's name, when the failing record is known. */
  readonly source?: string;
  /** The failing record's first source line, when known. */
  readonly line?: number;
  /** The target column the server named, when known. */
  readonly columnName?: string;
  /** The reason without the source position: column, value, message, SQLSTATE. */
  readonly reason: string;
  /** The server's own message, without position or SQLSTATE. */
  readonly serverMessage: string;

  /**
   * @param fields The server's error fields.
   * @param position The failing record, when the server named one.
   */
  constructor(
    fields: ServerErrorFields,
    position?: {
      source: string;
      line: number;
      columnName?: string;
      value?: string;
    },
  ) {
    const at = position ? `${position.source}:${position.line}: ` : "";
    const column = position?.columnName
      ? `column "${printable(position.columnName)}": `
      : "";
    // The value, as the server quotes it, when its message does not show it.
    const value = position?.value && !fields.message.includes(position.value)
      ? ` (value ${printable(cut(position.value, 80))})`
      : "";
    const message = printable(fields.message);
    const code = fields.code ? ` (SQLSTATE ${fields.code})` : "";
    const detail = fields.detail
      ? `\n  detail: ${printable(fields.detail)}`
      : "";
    const hint = fields.hint ? `\n  hint: ${printable(fields.hint)}` : "";
    const reason = `${column}${message}${value}${code}${detail}${hint}`;
    super(`${at}${reason}`);
    this.reason = reason;
    this.name = "DatabaseLoadError";
    this.serverMessage = fields.message;
    this.code = fields.code;
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.where = fields.where;
    this.source = position?.source;
    this.line = position?.line;
    this.columnName = position?.columnName;
  }

  /**
   * Whether the server rejected the data itself (SQLSTATE classes 22 and
   * 23: bad values, constraint violations) rather than failing otherwise.
   */
  get isRejectedRow(): boolean {
    return rejectsData(this.code, this.serverMessage);
  }
}

/**
 * Whether a server error's SQLSTATE and message say the server rejected
 * the data itself: classes 22 (bad values) and 23 (constraint
 * violations), also as Citus passes on a worker's violation in a COPY
 * (as an internal error, XX000, with the worker's message).
 *
 * @param code The SQLSTATE.
 * @param message The server's message.
 * @returns Whether it is a rejection of data.
 *
 * @example Usage
 * ```ts
 * import { rejectsData } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(rejectsData("23514", "x"), true);
 * assert.equal(rejectsData("XX000", 'new row for relation "t_102075" violates check constraint "c"'), true);
 * assert.equal(rejectsData("XX000", "cache lookup failed"), false);
 * ```
 */
export function rejectsData(
  code: string | undefined,
  message: string | undefined,
): boolean {
  if (code === undefined) return false;
  return code.startsWith("22") || code.startsWith("23") ||
    (code === "XX000" && / violates .*constraint /.test(message ?? ""));
}

/**
 * The exit code for an error, per the table in README.
 *
 * @param error Anything thrown.
 * @returns The process exit code.
 *
 * @example Usage
 * ```ts
 * import { exitCodeFor, InputSyntaxError } from "@lanecopy/lanecopy";
 * import assert from "node:assert/strict";
 *
 * const error = new InputSyntaxError("Bad", { source: "-", line: 1, column: 1, offset: 0 });
 * assert.equal(exitCodeFor(error), 2);
 * assert.equal(exitCodeFor(new Error("boom")), 1);
 * ```
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof InputSyntaxError) return ExitCode.BadInput;
  if (error instanceof UsageError) return error.exitCode;
  if (error instanceof InterruptedError) return error.exitCode;
  if (error instanceof DatabaseLoadError && error.isRejectedRow) {
    return ExitCode.BadInput;
  }
  return ExitCode.Failure;
}

/**
 * `text` with its control characters and line separators escaped (`\n`,
 * `\r`, `\t`, `\u0007`, `\u2028`): input quoted in a message (a key, a
 * value the server echoes) or shown in a table cell must not break it
 * across lines or reach the terminal raw.
 *
 * @param text Any text.
 * @returns The text, one line, with nothing a terminal acts on.
 *
 * @example Usage
 * ```ts
 * import { printable } from "./errors.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(printable("a\nb\tc\u0007"), "a\\nb\\tc\\u0007");
 * ```
 */
export function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (char) => {
    switch (char) {
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      case "\t":
        return "\\t";
      default:
        return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
    }
  });
}

/** `text` cut to about `length` characters, marked with an ellipsis. */
function cut(text: string, length: number): string {
  const chars = [...text];
  return chars.length <= length
    ? text
    : `${chars.slice(0, length - 1).join("")}…`;
}
