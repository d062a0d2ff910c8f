/**
 * Helpers for tests that run loads side by side or break them: generated
 * inputs, the CLI as a child process whose stderr is read as it comes,
 * polling, queries on any server, and the exactly-once checks.
 *
 * @module
 */

import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
import { REPO_ROOT } from "./_helpers.ts";

/** Lanes of the generated records. */
export const LANES = 4;

/**
 * Writes a CSV file of records `from..to` (header `id,lane,v`), in a new
 * temp file. Record `id` is in lane `lane(id % LANES)`, or the mirror lane
 * with `reversed` (so two files meet the lanes in different orders).
 *
 * @param from The first id.
 * @param to The last id.
 * @param options `reversed` lanes; `value` for a record's `v` field.
 * @returns The file's path.
 */
export async function writeRecords(
  from: number,
  to: number,
  options: { reversed?: boolean; value?: (id: number) => string } = {},
): Promise<string> {
  const lines = ["id,lane,v"];
  for (let id = from; id <= to; id++) {
    const lane = options.reversed ? LANES - 1 - id % LANES : id % LANES;
    lines.push(`${id},lane${lane},${options.value?.(id) ?? `v${id}`}`);
  }
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return path;
}

/**
 * The command line of a quiet load of `path` into `table` by lane:
 * `ingest PATH --table T --lane lane --batch-size N --meta-schema M --db
 * URL --quiet`, then `more`.
 *
 * @param url The server.
 * @param path The input (`-` for stdin).
 * @param table The target.
 * @param meta The bookkeeping schema.
 * @param batchSize Rows per batch.
 * @param more Further flags.
 * @returns The arguments after the program name.
 */
export function laneIngestArgs(
  url: string,
  path: string,
  table: string,
  meta: string,
  batchSize: number,
  ...more: string[]
): string[] {
  return [
    "ingest",
    path,
    "--table",
    table,
    "--lane",
    "lane",
    "--batch-size",
    String(batchSize),
    "--meta-schema",
    meta,
    "--db",
    url,
    "--quiet",
    ...more,
  ];
}

/** A CLI run in a child process, its stderr collected line by line. */
export interface Loader {
  /** The child. */
  child: Deno.ChildProcess;
  /** Its exit status; resolves once stderr is read to its end too. */
  status: Promise<Deno.CommandStatus>;
  /** Whether it has exited. */
  readonly exited: boolean;
  /** Its stderr so far. */
  readonly stderr: string;
  /** Its stdout, once it has exited. */
  stdout(): Promise<string>;
  /** How many stderr lines so far match `pattern`. */
  count(pattern: RegExp): number;
  /** Kills it (SIGKILL) unless it has exited, and waits for its exit. */
  stop(): Promise<void>;
}

/** Loaders started and not yet exited. */
const running = new Set<Loader>();

/**
 * Kills (SIGKILL) every loader {@linkcode startCli} started that is still
 * running, and waits for them: a failed test leaves no load behind.
 */
export async function stopLoaders(): Promise<void> {
  await Promise.all([...running].map((loader) => loader.stop()));
}

/**
 * Starts `deno run -A src/cli/main.ts ...args` (the loader itself, no wrapper:
 * a signal lands on the process holding the connection).
 *
 * @param args The command line after the program name.
 * @returns The running loader.
 */
export function startCli(args: string[]): Loader {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${REPO_ROOT}src/cli/main.ts`, ...args],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  let exited = false;
  const stdout = new Response(child.stdout).text();
  const read = (async () => {
    for await (
      const text of child.stderr.pipeThrough(new TextDecoderStream())
    ) {
      stderr += text;
    }
  })();
  const status = Promise.all([child.status, read]).then(([status]) => {
    exited = true;
    running.delete(loader);
    return status;
  });
  const loader: Loader = {
    child,
    status,
    get exited() {
      return exited;
    },
    get stderr() {
      return stderr;
    },
    stdout: () => stdout,
    count: (pattern) =>
      stderr.split("\n").filter((line) => pattern.test(line)).length,
    async stop() {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch { /* it has just exited */ }
      }
      await status;
    },
  };
  running.add(loader);
  return loader;
}

/**
 * Polls `check` until it returns something other than `undefined` or
 * `false`, and returns that.
 *
 * @param what What is awaited, for the timeout's message.
 * @param check The condition.
 * @param timeoutMs How long to wait. Default 10 s.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Settles like `promise`, or rejects once `ms` have passed.
 *
 * @param promise What to wait for.
 * @param ms The limit.
 * @param what What is awaited, for the timeout's message.
 */
export async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} took more than ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs SQL on the server at `url` and returns the rows. */
export async function query(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  // A connection the server ends (a restart, a crash) fails the query;
  // the client's own error event must not also end the test process.
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * The server sessions of the lanecopy process `pid` (its connections name
 * it in `application_name`).
 *
 * @param url The server.
 * @param pid The process.
 * @returns Each session's server pid, state and wait event, oldest first.
 */
export async function sessionsOf(
  url: string,
  pid: number,
): Promise<Session[]> {
  return await query(
    url,
    `select pid, state, wait_event_type, wait_event, query
       from pg_stat_activity where application_name like $1
      order by backend_start, pid`,
    [`lanecopy pid ${pid} on %`],
  ) as unknown as Session[];
}

/**
 * Ends every server session of the lanecopy process `pid` at once, as an
 * administrator's `pg_terminate_backend` would: a load on two connections
 * (batches overlap) loses both, so it cannot go on on the one left.
 *
 * @param url The server.
 * @param pid The process.
 * @returns How many sessions were ended.
 */
export async function terminateSessionsOf(
  url: string,
  pid: number,
): Promise<number> {
  const rows = await query(
    url,
    `select pg_terminate_backend(pid) as ended
       from pg_stat_activity where application_name like $1`,
    [`lanecopy pid ${pid} on %`],
  );
  return rows.filter((row) => row.ended === true).length;
}

/** A server session, as `pg_stat_activity` has it. */
export interface Session {
  /** The backend's pid. */
  pid: number;
  /** `active`, `idle`, `idle in transaction`, … */
  state: string;
  /** `Lock`, `Timeout`, … or `null`. */
  wait_event_type: string | null;
  /** `advisory`, `transactionid`, `PgSleep`, … or `null`. */
  wait_event: string | null;
  /** Its current or last statement. */
  query: string;
}

/**
 * Waits until the server has no session of the process `pid` left (a
 * killed loader's backend may still be finishing its work).
 */
export async function sessionsGone(url: string, pid: number): Promise<void> {
  await waitFor(
    `the server to end the sessions of process ${pid}`,
    async () => (await sessionsOf(url, pid)).length === 0,
  );
}

/**
 * A table with the generated records' columns and a lane seq, made slow
 * by a trigger named `${table}_slow` (drop it with {@linkcode makeFast}):
 * each COPY sleeps `sleepSeconds` at its end or, with `rowsAfter`, each
 * row with an id above it sleeps `sleepSeconds` as it arrives (so the
 * server reads a batch slower than it is sent).
 */
export async function createSlowTable(
  url: string,
  table: string,
  sleepSeconds: number,
  options: { rowsAfter?: number } = {},
): Promise<void> {
  await query(
    url,
    `create table ${table} (id int, lane text, v text, lane_seq bigint)`,
  );
  const perRow = options.rowsAfter !== undefined;
  const body = perRow
    ? `if new.id > ${options.rowsAfter} then perform pg_sleep(${sleepSeconds}); end if;
       return new;`
    : `perform pg_sleep(${sleepSeconds});
       return null;`;
  await query(
    url,
    `create function ${table}_sleep() returns trigger language plpgsql as
       $$ begin ${body} end $$`,
  );
  await query(
    url,
    perRow
      ? `create trigger ${table}_slow before insert on ${table}
           for each row execute function ${table}_sleep()`
      : `create trigger ${table}_slow after insert on ${table}
           for each statement execute function ${table}_sleep()`,
  );
}

/** Drops what {@linkcode createSlowTable} made slow. */
export async function makeFast(url: string, table: string): Promise<void> {
  await query(url, `drop trigger ${table}_slow on ${table}`);
}

/** What {@linkcode assertExactlyOnce} found. */
export interface TableState {
  /** Rows in the table. */
  rows: number;
}

/**
 * Asserts the invariants of a table loaded from generated records:
 * every id of `ids` present exactly once and no other; within each lane,
 * `lane_seq` is 1..n without gaps or duplicates and follows input (id)
 * order among the rows of each source (`sources`: the first id of each
 * source but the first, in order); the bookkeeping's counter rows for the
 * table equal the lanes' row counts, and `next_seq` follows them.
 *
 * @param url The server.
 * @param table The table (in `public`).
 * @param meta The bookkeeping schema.
 * @param ids How many ids, from 1, the table must hold.
 * @param sources Where each source after the first starts, by id.
 */
export async function assertExactlyOnce(
  url: string,
  table: string,
  meta: string,
  ids: number,
  sources: number[] = [],
): Promise<void> {
  const [state] = await query(
    url,
    `with t as (
       select id, lane, lane_seq,
              width_bucket(id, $2::int[]) as source
         from ${table}
     )
     select (select count(*) from t)::int as rows,
            (select count(distinct id) from t)::int as distinct_ids,
            (select coalesce(min(id), 0) from t)::int as min_id,
            (select coalesce(max(id), 0) from t)::int as max_id,
            (select count(*) from (
               select lane_seq <> row_number() over (partition by lane order by lane_seq) as off
                 from t) s where off)::int as seq_gaps,
            (select count(*) from (
               select lane_seq < lag(lane_seq) over (partition by lane, source order by id) as off
                 from t) s where off)::int as out_of_order,
            (select count(*)
               from (select * from ${meta}.lanes where target = $1) l
               full join (select lane, count(*) as n from t group by lane) c
                 on c.lane = l.lane
              where l.row_count is distinct from c.n
                 or l.next_seq is distinct from c.n + 1)::int as bad_counters`,
    [`public.${table}`, sources],
  );
  assert.equal(state.distinct_ids, state.rows, "a record is there twice");
  assert.deepEqual(
    [state.rows, state.min_id, state.max_id],
    [ids, ids === 0 ? 0 : 1, ids],
    `the table does not hold ids 1..${ids} exactly`,
  );
  assert.equal(state.seq_gaps, 0, "a lane's seqs are not exactly 1..n");
  assert.equal(
    state.out_of_order,
    0,
    "a lane's seqs do not follow input order",
  );
  assert.equal(state.bad_counters, 0, "a lane counter differs from its rows");
}

/**
 * The rows a table holds, and whether they are ids 1..n (the committed
 * part of a single source is a prefix of it).
 */
export async function committedPrefix(
  url: string,
  table: string,
): Promise<number> {
  const [state] = await query(
    url,
    `select count(*)::int as n, count(distinct id)::int as d,
            coalesce(max(id), 0)::int as max_id from ${table}`,
  );
  assert.equal(state.d, state.n, "a record is there twice");
  assert.equal(state.max_id, state.n, "the committed rows are not a prefix");
  return state.n as number;
}
