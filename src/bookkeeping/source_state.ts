/**
 * A source's identity and committed state: which id it loads under, the
 * lock that keeps one run per source, and where an earlier run stopped.
 *
 * @module
 */

import type { ColumnEntry } from "../codec/column_entry.ts";
import type { ExtraPolicy } from "../codec/column_map.ts";
import { ExitCode, UsageError } from "../errors.ts";
import { metaTables } from "./schema.ts";
import type { InputFormat } from "../source/input_format.ts";
import type { CommittedPrefix } from "../source/prefix_fingerprint.ts";
import type { Target } from "../target/target.ts";
import type { StoredRouting } from "../parallel/shard_routing.ts";

/** The options that change what a source's bytes mean; stored per source. */
export interface SourceOptions {
  /** The target, as `schema.table`. */
  target: string;
  /** The input format. */
  format: InputFormat;
  /** Field delimiter. */
  delimiter: string;
  /** Quote character. */
  quote: string;
  /** Escape character inside quoted fields, when it is not the quote. */
  escape?: string;
  /** The NULL string, or `null` for the unquoted empty field. */
  nullString: string | null;
  /** Whether the first record is a header. */
  header: boolean;
  /**
   * The column each field loads into, in file order (see `resolveFields`:
   * a field skipped or renamed keeps its header's name).
   */
  columns: ColumnEntry[];
  /** What a field whose column the table lacks did, when not `error`. */
  extraColumns?: ExtraPolicy;
  /** What an NDJSON key that is no field did, when not `error`. */
  extraKeys?: ExtraPolicy;
  /** The lane column, or `null` for the single `default` lane. */
  lane: string | null;
  /**
   * The text encoding: `utf-8`, or PostgreSQL's name of another
   * (`LATIN1`, `WIN1252`, …; see `resolveEncoding`).
   */
  encoding: string;
  /** Upsert: `nothing` or `update` (unset: appended). */
  onConflict?: "nothing" | "update";
  /** Upsert: the key columns named (unset: the primary key). */
  key?: string[];
  /** Whether the load replaces the table's rows (unset: no). */
  replace?: boolean;
  /**
   * Lanes routed to writers by Citus shard (`--routing shards`), and the
   * shards they were routed by; unset: hashed (see `planRouting`, which
   * compares it on a resume, as the writer count is).
   */
  routing?: StoredRouting;
}

/** What an earlier run of a source committed, for one writer. */
export interface SourceProgress extends CommittedPrefix {
  /** Rows committed. */
  rowsCommitted: number;
  /** Whether the run reached the end of the source. */
  complete: boolean;
}

/** A source's stored state. */
export interface SourceState {
  /** The options it was loaded with. */
  options: SourceOptions;
  /** Writer 0's committed prefix. */
  progress: SourceProgress;
  /**
   * The generation of the target table its progress belongs to (see
   * `target_identity.ts`; 1 for a source registered before they were
   * recorded).
   */
  targetGeneration: number;
}

/**
 * The default source id: the file's real path plus the target.
 *
 * @param realPath The file's canonical path.
 * @param target The target as `schema.table`.
 * @returns The id.
 *
 * @example Usage
 * ```ts
 * import { defaultSourceId } from "./source_state.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(defaultSourceId("/data/o.csv", "public.orders"), "/data/o.csv -> public.orders");
 * ```
 */
export function defaultSourceId(realPath: string, target: string): string {
  return `${realPath} -> ${target}`;
}

/**
 * Reads a source's stored options, writer 0's progress, and the generation
 * of the target table that progress belongs to.
 *
 * @param target An open database with the bookkeeping schema.
 * @param metaSchema The bookkeeping schema.
 * @param sourceId The source id.
 * @returns Its state, or `undefined` when it was never loaded.
 *
 * @example Usage
 * ```ts
 * import { ensureBookkeeping } from "./schema.ts";
 * import { readSourceState } from "./source_state.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
 * await ensureBookkeeping(target);
 * assert.equal(await readSourceState(target, "lanecopy", "nope"), undefined);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function readSourceState(
  target: Target,
  metaSchema: string,
  sourceId: string,
): Promise<SourceState | undefined> {
  const t = metaTables(metaSchema);
  const { rows } = await target.query(
    `SELECT s.options, coalesce(s.target_generation, 1)::float8 AS generation,
            p.byte_offset::float8 AS byte_offset,
            p.rows_committed::float8 AS rows_committed,
            p.lines_committed::float8 AS lines_committed,
            p.fingerprint, p.complete
       FROM ${t.sources} s
       LEFT JOIN ${t.progress} p ON p.source_id = s.source_id AND p.writer = 0
      WHERE s.source_id = $1`,
    [sourceId],
  );
  if (rows.length === 0) return undefined;
  const row = rows[0];
  return {
    options: row.options as SourceOptions,
    progress: {
      byteOffset: Number(row.byte_offset ?? 0),
      rowsCommitted: Number(row.rows_committed ?? 0),
      lines: Number(row.lines_committed ?? 0),
      fingerprint: String(row.fingerprint ?? ""),
      complete: row.complete === true,
    },
    targetGeneration: Number(row.generation),
  };
}

/**
 * How the options of this run differ from the stored ones, as phrases for
 * a message (empty when they agree), each naming the option as a person
 * gives it (`--null`, `--no-header`). Columns are compared only when this
 * run names them: otherwise they come from the header, which lies in the
 * verified prefix.
 *
 * @param stored The options the source was loaded with.
 * @param now This run's options.
 * @param columnsGiven Whether this run names its columns.
 * @returns The differences.
 *
 * @example Usage
 * ```ts
 * import { optionDifferences } from "./source_state.ts";
 * import assert from "node:assert/strict";
 *
 * const stored = {
 *   target: "public.t", format: "csv" as const, delimiter: ",", quote: '"',
 *   nullString: null, header: true, columns: ["a"], lane: null, encoding: "utf-8" as const,
 * };
 * assert.deepEqual(optionDifferences(stored, { ...stored, delimiter: ";", nullString: "NA" }, false), [
 *   '--delimiter was "," and is now ";"',
 *   '--null was not given and is now "NA"',
 * ]);
 * ```
 */
export function optionDifferences(
  stored: SourceOptions,
  now: SourceOptions,
  columnsGiven: boolean,
): string[] {
  const keys: (keyof SourceOptions)[] = [
    "target",
    "format",
    "delimiter",
    "quote",
    "escape",
    "nullString",
    "header",
    "lane",
    "encoding",
    "extraColumns",
    "extraKeys",
    "onConflict",
    "key",
    "replace",
  ];
  if (columnsGiven) keys.push("columns");
  // No escape means the quote (doubled quotes), as before there was one;
  // no extraColumns or extraKeys means an error, as before there were.
  const value = (options: SourceOptions, key: keyof SourceOptions) =>
    JSON.stringify(
      key === "escape"
        ? options.escape ?? options.quote
        : key === "extraColumns" || key === "extraKeys"
        ? options[key] ?? "error"
        : options[key],
    );
  const shown = (options: SourceOptions, key: keyof SourceOptions) => {
    if (key === "header") return options.header ? "not given" : "given";
    if (key === "replace") return options.replace ? "given" : "not given";
    if (key === "key" && options.key) return `"${options.key.join(",")}"`;
    const text = value(options, key);
    return text === "null" || text === undefined ? "not given" : text;
  };
  return keys
    .filter((key) => value(stored, key) !== value(now, key))
    .map((key) =>
      `${OPTION_NAMES[key] ?? key} was ${shown(stored, key)} and is now ${
        shown(now, key)
      }`
    );
}

/** The option each stored setting comes from, as a person gives it. */
const OPTION_NAMES: Partial<Record<keyof SourceOptions, string>> = {
  target: "--table",
  format: "--format",
  delimiter: "--delimiter",
  quote: "--quote",
  escape: "--escape",
  nullString: "--null",
  header: "--no-header",
  lane: "--lane",
  encoding: "--encoding",
  columns: "--columns",
  extraColumns: "--extra-columns",
  extraKeys: "--extra-keys",
  onConflict: "--on-conflict",
  key: "--key",
  replace: "--replace",
};

/** A held source lock; release it when the run ends. */
export interface SourceLock {
  /** Releases the lock (idempotent). */
  release(): Promise<void>;
}

/**
 * Takes the advisory lock that allows one run per source. Without `wait`,
 * a source another run holds is refused (exit code 4) naming the holder;
 * with `wait`, this waits for it.
 *
 * @param target The connection the run loads through (session lock).
 * @param sourceId The source id.
 * @param wait Wait for the holder instead of refusing.
 * @returns The held lock.
 *
 * @example Usage
 * ```ts
 * import { lockSource } from "./source_state.ts";
 * import { openTarget } from "../target/open_target.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
 * const lock = await lockSource(target, "orders", false);
 * await lock.release();
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function lockSource(
  target: Target,
  sourceId: string,
  wait: boolean,
): Promise<SourceLock> {
  const key = `lanecopy source ${sourceId}`;
  if (wait) {
    await target.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [
      key,
    ]);
  } else {
    const { rows } = await target.query(
      "SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked",
      [key],
    );
    if (rows[0].locked !== true) {
      throw new UsageError(
        `Cannot load source "${sourceId}": another run is loading it (${await describeHolder(
          target,
          key,
        )}); pass --wait to wait for it and then resume`,
        ExitCode.Refused,
      );
    }
  }
  let held = true;
  return {
    async release() {
      if (!held) return;
      held = false;
      await target.query(
        "SELECT pg_advisory_unlock(hashtextextended($1, 0))",
        [key],
      ).catch(() => {});
    },
  };
}

async function describeHolder(target: Target, key: string): Promise<string> {
  if (target.kind === "embedded") return "in this process";
  const { rows } = await target.query(
    `WITH k AS (SELECT hashtextextended($1, 0) AS key)
     SELECT a.pid, a.application_name, host(a.client_addr) AS client,
            to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ') AS since
       FROM k, pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.classid = ((k.key >> 32) & 4294967295)::oid
        AND l.objid = (k.key & 4294967295)::oid`,
    [key],
  );
  const holder = rows[0];
  if (holder === undefined) return "it has just finished or gone";
  const who = holder.application_name ? `${holder.application_name}, ` : "";
  const where = holder.client ? ` from ${holder.client}` : "";
  return `${who}server pid ${holder.pid}${where}, connected since ${holder.since}`;
}
