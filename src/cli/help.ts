/**
 * What `--help` prints: the command list and each command's usage, options
 * and examples.
 *
 * @module
 */

import { CITUS_BATCH_SIZE, UPSERT_BATCH_SIZE } from "../write/write_mode.ts";
import { DEFAULTS } from "../defaults.ts";
import { ExitCode } from "../errors.ts";
import { DEFAULT_BATCH_SIZE } from "../ingest.ts";
import { DEFAULT_DATA_DIR } from "../target/open_target.ts";

/** What `--json` prints, the same on a server and on the embedded database. */
const JSON_HELP =
  `JSON output (--json of ingest, sql and status): the same types whichever
database answers. Integers are numbers up to 2^53 - 1 in size and strings
beyond; numeric is a string (every digit kept); timestamps are ISO 8601
strings (timestamptz in UTC, "2024-05-01T10:00:00.123456Z"); json and jsonb are
JSON values; NULL is null. A failed run prints one object on stdout as well
as its message on stderr, and exits with its exit code:
  {"error": {"message": "…", "code": 2, "file": "orders.csv", "line": 5, "column": 2}}
(file, line and column when known; columnName and sqlstate for a row the
server rejected).`;

/**
 * `lanecopy --help`: the commands, and where rows go.
 *
 * @example Usage
 * ```ts
 * import { MAIN_HELP } from "./help.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(MAIN_HELP, /lanecopy ingest FILE/);
 * ```
 */
export const MAIN_HELP: string =
  `lanecopy: stream CSV or NDJSON records into PostgreSQL at COPY speed.

Usage:
  lanecopy ingest FILE… --table T [options]    load records, one transaction per batch
  lanecopy encode FILE|- [options]             print the COPY data ingest would send
  lanecopy sql "select …" [options]            run a query where ingest loads
  lanecopy status [--source-id ID] [options]   sources' progress and lanes' counters

Where rows go: --db URL (or libpq settings "host=… dbname=…"), else
$DATABASE_URL, else a server when PGHOST, PGHOSTADDR, PGPORT, PGDATABASE or
PGSERVICE is set (as psql does), else the embedded database (PGlite, no server
needed) in ${DEFAULT_DATA_DIR}. Every summary names the one it used.

Run "lanecopy COMMAND --help" for a command's options, "lanecopy --version"
for the version.

${JSON_HELP}
`;

/** The input format options, shared by `ingest` and `encode`. */
const FORMAT_HELP = `Input format:
  --format F          csv or ndjson. Default: from the file's extension (.csv
                      and .tsv are CSV; .ndjson, .jsonl and .json are NDJSON;
                      a .gz suffix is looked past), else sniffed from the first
                      non-blank byte ("{" is NDJSON), standard input included
  NDJSON is one JSON object per line. Keys name the columns: --columns, else the
  target table's columns (its seq column excepted); a key that is not a column
  (unless --extra-keys ignore), or a repeated key, is bad input. Strings are
  unescaped; numbers, true, false, objects and arrays load as their JSON text,
  byte for byte (numeric, boolean, json and jsonb columns); null or a missing
  key is NULL. The CSV options below do not apply to it, except --columns and
  --codec.`;

/** The CSV options, shared by `ingest` and `encode`. */
const CSV_HELP = `CSV options:
  --columns LIST      the column each field loads into, in file order: a column
                      (replacing the header's name; the header line is still
                      skipped unless --no-header), - to skip the field, or
                      field:column (checks the header names field there). A
                      list of only field:column entries goes by name: partial,
                      any order, field:- skips one, the header's other fields
                      load as named. NDJSON: key, key:column, key:-
  --no-header         the first line is a record, not a header (needs --columns
                      for ingest)
  --delimiter C       field delimiter, one ASCII character (default ",";
                      --delimiter tab for TSV)
  --null STRING       an unquoted field equal to STRING is NULL (default: an
                      unquoted empty field is NULL, a quoted "" is an empty
                      string)
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

/**
 * `lanecopy ingest --help`: every option of a load, and the exit codes.
 *
 * @example Usage
 * ```ts
 * import { INGEST_HELP } from "./help.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(INGEST_HELP, /Exit codes:\n {2}0 /);
 * ```
 */
export const INGEST_HELP: string =
  `Usage: lanecopy ingest FILE|- [FILE…] --table T [options]

Loads CSV (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes,
LF or CRLF, UTF-8 with or without BOM) from FILE, or standard input for -,
into table T by COPY, in batches of --batch-size rows, each batch its own
transaction. The header's names map to the table's columns by name, in any
order (as written: case matters); columns the file lacks get their defaults.
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
  --create            create the table (and its schema) when missing: a column
                      per header name (NDJSON: per key, in the order first
                      seen), typed from the values of every record of a file
                      or the first 10,000 of standard input: integer, bigint,
                      numeric, boolean (true/false), date, timestamp,
                      timestamptz (with Z or an offset), uuid, jsonb (objects
                      and arrays), else text (codes with leading zeros, mixed
                      or empty columns). Prints what it created
  --no-infer          with --create, every column is text
  --distribute-by COLUMN  with --create on a Citus coordinator: distribute
                      the new table by COLUMN (default: the --lane column;
                      without one, the table stays on the coordinator)
  --extra-columns P   a field whose column the table lacks: error (default:
                      refused before anything loads, naming them all) or
                      ignore (the field is skipped)
  --extra-keys P      NDJSON, a key that is no column: error (default: bad
                      input at its file:line:column) or ignore (left out)
  --batch-size N      rows per batch/transaction (default ${
    DEFAULT_BATCH_SIZE.toLocaleString("en-US")
  }; ${UPSERT_BATCH_SIZE.toLocaleString("en-US")} with
                      --on-conflict: a batch goes into the table in key order,
                      and a larger one visits fewer pages per row; ${
    CITUS_BATCH_SIZE.toLocaleString("en-US")
  } into
                      a table Citus distributes: a COPY pays per shard)
  --flush-ms N        commit a partial batch once its oldest record has waited
                      N ms (default ${DEFAULTS.flushMs}): a live stream loads as it comes
  --db URL            PostgreSQL URL or libpq settings ("host=db dbname=shop");
                      default $DATABASE_URL, else PGHOST/PGPORT/… if set, else
                      the embedded database; PGPASSWORD, ~/.pgpass and
                      PGSSLMODE fill in the rest
  --data-dir DIR      embedded database directory (default ${DEFAULT_DATA_DIR})
  --retries N         after a lost connection to a server, reconnect up to N
                      times (backoff from 0.5 s, doubling up to 8 s), keeping
                      the batch in hand (default ${DEFAULTS.retries}; 0 gives up at once)
  -q, --quiet         no progress bar, no summary line, no notices (resuming,
                      restarting, reconnecting); errors still go to stderr
  --json              print the summary as one JSON object on stdout (several
                      files: one object, with the run's totals under the
                      summary's names and "files", each file's summary); see
                      "lanecopy --help" for the types and a failed run's object
  -v, --verbose       one line per batch step on stderr (start, commit-sent,
                      committed, skipped; binary or text)
  --copy-format F     how batches go to the server: auto (default) sends a
                      batch in COPY binary when every column's type has a
                      binary encoder (integers, numeric, float, bool, text
                      types, json, jsonb, bytea, date, timestamp, timestamptz,
                      uuid, and domains over them) and every value is in a
                      plain form (ISO dates, times with an offset, decimal
                      numbers), so the server parses less; else in text, as
                      read. binary: a batch that cannot is an error. text:
                      always text (also any input not in UTF-8)
  --atomic            load everything in one transaction, like psql -1: all
                      rows or none. A failed or interrupted run leaves nothing
                      behind, so there is no resume: run it again from the start
  --dry-run           run the whole load and roll it back: the table and
                      columns are checked (or created and dropped again), every
                      row goes through the server, rejects and the summary are
                      reported; no row, counter or progress is committed

Rows already in the table (default: append; a key already there is a
rejected row):
  --on-conflict ACTION  upsert: a record whose key the table holds changes
                      nothing (nothing: the row there stays) or updates it
                      (update: in input order the last record of a key wins).
                      Each batch goes by COPY into a temporary staging table,
                      then one INSERT ... ON CONFLICT moves it in key order, in
                      the batch's transaction: exactly once, with no
                      row-by-row INSERT. The summary counts inserted and
                      updated (or skipped)
  --key COLUMNS       with --on-conflict: the columns of the unique index to
                      match by, comma-separated (default: the primary key;
                      with --create, the new table's primary key). With
                      --parallel the key must hold the --lane column
  --replace           the table's rows become the input's: batches load,
                      resumably, into a shadow table in --meta-schema; after
                      the last, one transaction deletes the rows not in it,
                      inserts the new ones and updates changed ones (matched
                      by the primary key). Readers see the old rows until
                      then; views, grants, triggers and foreign keys on the
                      table keep working. Rows are written twice

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
  --routing R         with --parallel: how lanes map to writers. shards: on a
                      table Citus distributes by hash of the --lane column,
                      each lane goes to its shard's writer (shard i, in hash
                      order, to writer i mod N), so each writer's COPY touches
                      its own shards only; hash: the lane key hashed as above.
                      Default: shards where it applies, else hash; shards
                      elsewhere is refused (exit 4). Like N, a source that is
                      not complete resumes only with the routing it was
                      loaded with (and, by shard, the same shards)
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
  lanecopy ingest prices.csv --table prices --on-conflict update --key sku
  cat orders.csv | lanecopy ingest - --table sales.orders --db postgres://app@db/shop
`;

/**
 * `lanecopy encode --help`: the COPY data ingest would send, as a dry run.
 *
 * @example Usage
 * ```ts
 * import { ENCODE_HELP } from "./help.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(ENCODE_HELP, /--copy-format F/);
 * ```
 */
export const ENCODE_HELP: string = `Usage: lanecopy encode FILE|- [options]

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

/**
 * `lanecopy sql --help`: one statement where ingest loads.
 *
 * @example Usage
 * ```ts
 * import { SQL_HELP } from "./help.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(SQL_HELP, /lanecopy sql "STATEMENT"/);
 * ```
 */
export const SQL_HELP: string = `Usage: lanecopy sql "STATEMENT" [options]

Runs the statement, or several separated by ";", where ingest loads (the
embedded database unless --db, $DATABASE_URL or PGHOST/PGPORT/… name a
server), in one transaction unless
they say BEGIN and COMMIT (as psql -c does). A statement that returns rows
prints them as a table; any other prints its command tag (INSERT 0 3, CREATE
TABLE). In a table, NULL shows as NULL and an empty string as nothing; line
breaks, tabs and other control characters show as \\n, \\t, \\u0007, so each
row keeps to one line; wide characters (CJK, emoji) line up. Notices go to
stderr.

Options:
  --db URL            PostgreSQL URL or libpq settings (default $DATABASE_URL,
                      else PGHOST/PGPORT/… if set, else the embedded database)
  --data-dir DIR      embedded database directory (default ${DEFAULT_DATA_DIR})
  --json              print each row as one JSON object a line, keyed by
                      column name (command tags are left out; see
                      "lanecopy --help" for the types)

Examples:
  lanecopy sql "select count(*) from orders"
  lanecopy sql "create table t (a int); insert into t values (1), (2); select * from t"
`;

/**
 * `lanecopy status --help`: what the bookkeeping holds.
 *
 * @example Usage
 * ```ts
 * import { STATUS_HELP } from "./help.ts";
 * import assert from "node:assert/strict";
 *
 * assert.match(STATUS_HELP, /--source-id ID/);
 * ```
 */
export const STATUS_HELP: string =
  `Usage: lanecopy status [--source-id ID] [options]

Shows what the bookkeeping holds: each source with its committed prefix
(byte_offset, rows_committed, lines_committed, complete), and each lane with
its next_seq and row_count. With --source-id, only that source and the lanes
of its target.

Options:
  --source-id ID      only this source
  --meta-schema NAME  schema of the bookkeeping tables (default lanecopy)
  --db URL            PostgreSQL URL or libpq settings (default $DATABASE_URL,
                      else PGHOST/PGPORT/… if set, else the embedded database)
  --data-dir DIR      embedded database directory (default ${DEFAULT_DATA_DIR})
  --json              print {"sources": [...], "lanes": [...]} on stdout (see
                      "lanecopy --help" for the types)
`;

/**
 * Prints a help text on stdout.
 *
 * @param text The text, one of this module's.
 * @returns The exit code: 0.
 *
 * @example Usage
 * ```ts
 * import { printHelp, SQL_HELP } from "./help.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(printHelp(SQL_HELP), 0);
 * ```
 */
export function printHelp(text: string): number {
  console.log(text);
  return ExitCode.Ok;
}
