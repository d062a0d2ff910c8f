/**
 * Helpers for tests that run loads side by side or break them: generated
 * inputs, the command lines of lane loads, polling, the loader's server
 * sessions, slow tables, kills, and the exactly-once checks.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type CliResult,
  type Loader,
  query,
  runCli,
  sql,
  startCli,
  writeTemp,
} from "./_helpers.ts";
import { ingest } from "../src/mod.ts";
import { defaultSourceId } from "../src/bookkeeping/source_state.ts";

/** Lanes of the generated records. */
export const LANES = 4;

/** A seeded generator (linear congruential) of numbers in `[0, 1)`. */
export function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * A seeded generator ({@linkcode lcg}), so a failing run can be replayed:
 * the seed is `NAME_SEED` from the environment, or else drawn from the
 * clock, and is printed.
 *
 * @param name What the seed is for, e.g. `crash` (read from `CRASH_SEED`).
 */
export function replayableRandom(name: string): () => number {
  const variable = `${name.toUpperCase()}_SEED`;
  const seed = Number(Deno.env.get(variable) ?? Date.now() % 100_000);
  console.log(`${name} test seed ${seed} (${variable}=${seed} replays it)`);
  return lcg(seed);
}

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
  return await writeTemp(lines.join("\n") + "\n");
}

/**
 * Creates `table` with the generated records' columns and a lane seq:
 * `(id int, lane text, v text, lane_seq bigint)`.
 *
 * @param url The server.
 * @param table The table.
 * @param check A check constraint on `v`, e.g. `v <> 'bad'` (PostgreSQL
 * names it `TABLE_v_check`).
 */
export async function createRecordsTable(
  url: string,
  table: string,
  check?: string,
): Promise<void> {
  const v = check === undefined ? "v text" : `v text check (${check})`;
  await query(
    url,
    `create table ${table} (id int, lane text, ${v}, lane_seq bigint)`,
  );
}

/**
 * The command line of a load of `path` into `table` by lane: `ingest PATH
 * --table T --lane lane --batch-size N --meta-schema M --db URL`, then
 * `more`.
 *
 * @param url The server.
 * @param path The input (`-` for stdin).
 * @param table The target.
 * @param meta The bookkeeping schema.
 * @param batchSize Rows per batch; `undefined` for the default (no flag).
 * @param more Further flags.
 * @returns The arguments after the program name.
 */
export function laneLoadArgs(
  url: string,
  path: string,
  table: string,
  meta: string,
  batchSize: number | undefined,
  ...more: string[]
): string[] {
  return [
    "ingest",
    path,
    "--table",
    table,
    "--lane",
    "lane",
    ...batchSize === undefined ? [] : ["--batch-size", String(batchSize)],
    "--meta-schema",
    meta,
    "--db",
    url,
    ...more,
  ];
}

/**
 * The command line of a quiet load by lane: {@linkcode laneLoadArgs}
 * with `--quiet` before `more`.
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
  return laneLoadArgs(url, path, table, meta, batchSize, "--quiet", ...more);
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
 * Waits until the lanecopy process of `loader` waits for an advisory
 * lock: a source's, which another run holds.
 *
 * @param url The server.
 * @param loader The waiting run.
 * @param what What is awaited, for the timeout's message.
 */
export async function waitForSourceLock(
  url: string,
  loader: Loader,
  what: string,
): Promise<void> {
  await waitFor(
    what,
    async () =>
      (await sessionsOf(url, loader.child.pid)).some((session) =>
        session.wait_event === "advisory"
      ),
  );
}

/**
 * The backend of a CLI loader (run with `--verbose`) when it has committed
 * `batches` batches and sleeps inside its next COPY (a table made slow by
 * {@linkcode makeSlow}); `undefined` while it has not. Throws once the
 * loader has exited.
 */
export async function midCopyBackend(
  url: string,
  loader: Loader,
  batches: number,
): Promise<number | undefined> {
  if (loader.exited) throw new Error(`The loader exited:\n${loader.stderr}`);
  if (loader.count(/ committed bytes /) < batches) return undefined;
  const sessions = await sessionsOf(url, loader.child.pid);
  return sessions.find((session) => session.wait_event === "PgSleep")?.pid;
}

/**
 * Waits until a CLI loader (run with `--verbose`) has logged `batches`
 * commits; fails once it has exited short of them.
 *
 * @param loader The load.
 * @param batches How many committed batches.
 * @param timeoutMs How long to wait. Default 10 s.
 */
export async function waitForCommits(
  loader: Loader,
  batches: number,
  timeoutMs?: number,
): Promise<void> {
  await waitFor(`${batches} committed batches`, () => {
    if (loader.count(/ committed bytes /) >= batches) return true;
    if (loader.exited) {
      throw new Error(
        `The load ended before ${batches} commits:\n${loader.stderr}`,
      );
    }
    return false;
  }, timeoutMs);
}

/**
 * Starts a load of `args` (with `--verbose`), waits until it has committed
 * `batches` batches and `beforeKill` is done, asserts it is still loading,
 * kills it (SIGKILL) and waits until the server has ended its sessions.
 *
 * @param url The server.
 * @param args The command line after the program name.
 * @param batches How many batches it commits before its kill.
 * @param options How long to wait for the commits (default 10 s); what to
 * wait for after them.
 * @returns The killed loader.
 */
export async function killAfterCommits(
  url: string,
  args: string[],
  batches: number,
  options: {
    timeoutMs?: number;
    beforeKill?: (loader: Loader) => Promise<unknown>;
  } = {},
): Promise<Loader> {
  const loader = startCli(args);
  await waitForCommits(loader, batches, options.timeoutMs);
  await options.beforeKill?.(loader);
  assert.ok(
    !loader.exited,
    `the load ended before its kill:\n${loader.stderr}`,
  );
  await loader.stop();
  await sessionsGone(url, loader.child.pid);
  return loader;
}

/**
 * Makes `table` slow by a trigger named `${table}_slow` (drop it with
 * {@linkcode makeFast}), calling a function `${table}_sleep()`: each COPY
 * sleeps `sleepSeconds` at its end; or, with `rowsAfter`, each row with an
 * id above it sleeps `sleepSeconds` as it arrives (so the server reads a
 * batch slower than it is sent); or, with `atCommit`, each row sleeps
 * `sleepSeconds` at COMMIT (a deferred trigger).
 */
export async function makeSlow(
  url: string,
  table: string,
  sleepSeconds: number,
  options: { rowsAfter?: number; atCommit?: boolean } = {},
): Promise<void> {
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
      : options.atCommit
      ? `create constraint trigger ${table}_slow after insert on ${table}
           deferrable initially deferred for each row
           execute function ${table}_sleep()`
      : `create trigger ${table}_slow after insert on ${table}
           for each statement execute function ${table}_sleep()`,
  );
}

/**
 * A table with the generated records' columns and a lane seq
 * ({@linkcode createRecordsTable}), made slow ({@linkcode makeSlow}).
 */
export async function createSlowTable(
  url: string,
  table: string,
  sleepSeconds: number,
  options: { rowsAfter?: number } = {},
): Promise<void> {
  await createRecordsTable(url, table);
  await makeSlow(url, table, sleepSeconds, options);
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

/**
 * Asserts `table` (id, lane, lane_seq) holds exactly the records `good`,
 * once each, and each lane's seqs are 1..n in input (id) order.
 */
export async function assertGoodRowsOnce(
  table: string,
  good: number[],
): Promise<void> {
  const rows = await sql(`select id from ${table} order by id`);
  assert.deepEqual(rows.map((row) => row.id), good);
  const [lanes] = await sql(`select count(*)::int as bad from (
      select lane_seq <> row_number() over (partition by lane order by id) as off
        from ${table}) s where off`);
  assert.equal(lanes.bad, 0, "a lane's seqs are not 1..n in input order");
}

/**
 * Asserts a `--json` load with a reject file ended with exit 3 (rows
 * rejected), `rows` rows loaded and `rejected` rejected of `records`.
 *
 * @returns The load's summary.
 */
export function assertRejectSummary(
  result: CliResult,
  rows: number,
  rejected: number,
  records: number,
): { rows: number; rejected: number } {
  assert.equal(result.code, 3, result.stderr);
  const summary = JSON.parse(result.stdout);
  assert.equal(summary.rows, rows);
  assert.equal(summary.rejected, rejected);
  assert.equal(summary.rows + summary.rejected, records);
  return summary;
}

/** An entry of the log beside a reject file (the fields the tests read). */
export interface RejectLogEntry {
  /** `malformed` or `rejected`. */
  kind: string;
  /** The record's first line in its source. */
  line: number;
  /** The line of its error (malformed records). */
  error_line?: number;
  /** The error's column: a character count (malformed) or a name. */
  column: number | string;
  /** Where the record starts in its source, in bytes. */
  start_offset: number;
  /** Where it ends. */
  end_offset: number;
  /** Why it was rejected. */
  reason: string;
  /** Where the record starts in the reject file, in bytes. */
  reject_offset: number;
  /** Its length there (a line feed added to a last record without one). */
  reject_bytes: number;
}

/** The entries of the log beside the reject file `rejects`, in order. */
export async function readRejectLog(
  rejects: string,
): Promise<RejectLogEntry[]> {
  return (await Deno.readTextFile(`${rejects}.log`)).trim().split("\n")
    .map((line) => JSON.parse(line));
}

/**
 * This process loads `path` into `table` of the database at `url` as a
 * stream under the source id the CLI uses for the file, and stalls after `batches` batches until `release` says
 * whether its input breaks or ends.
 */
export async function holdSource(
  url: string,
  path: string,
  table: string,
  meta: string,
  batchSize: number,
  batches: number,
) {
  const bytes = await Deno.readFile(path);
  // The header and one record more than the batches need: a batch is cut
  // once the record after it has been seen.
  let cut = 0;
  for (let line = 0; line < batches * batchSize + 2; line++) {
    cut = bytes.indexOf(10, cut) + 1;
  }
  const release = Promise.withResolvers<"break" | "end">();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes.subarray(0, cut));
    },
    async pull(controller) {
      if (await release.promise === "break") {
        controller.error(new Error("the holder's input broke"));
      } else {
        controller.enqueue(bytes.subarray(cut));
        controller.close();
      }
    },
  });
  const state = { rows: 0, settled: false };
  const done = ingest({
    source: stream,
    sourceName: path,
    sourceId: defaultSourceId(await Deno.realPath(path), `public.${table}`),
    table,
    lane: "lane",
    batchSize,
    metaSchema: meta,
    db: url,
    onProgress: (progress) => state.rows = progress.rows,
  }).finally(() => state.settled = true);
  done.catch(() => {});
  await waitFor(
    `the holder to commit ${batches} batches`,
    () => state.rows === batches * batchSize,
  );
  return { state, done, release: release.resolve };
}

/**
 * One run per source, checked on the server at `url` with `n` records in
 * `path` going into `table`: while this process holds the source after 4
 * batches of 50, a second run is refused (exit 4, naming the holder and
 * `--wait`); with `--wait` it waits, then resumes where the holder
 * stopped when the holder's input breaks, every record once.
 */
export async function assertOneRunPerSource(
  url: string,
  path: string,
  table: string,
  meta: string,
  n: number,
): Promise<void> {
  const holder = await holdSource(url, path, table, meta, 50, 4);

  const refused = await runCli(
    laneIngestArgs(url, path, table, meta, 50),
  );
  assert.equal(refused.code, 4, refused.stderr);
  assert.match(
    refused.stderr,
    new RegExp(
      `Cannot load source ".*": another run is loading it \\(lanecopy pid ${Deno.pid} on `,
    ),
  );
  assert.match(refused.stderr, /pass --wait/);
  // The holder was loading all along, and still is.
  assert.equal(holder.state.settled, false);
  assert.equal(await committedPrefix(url, table), 200);

  const waiter = startCli(
    laneLoadArgs(url, path, table, meta, 50, "--wait", "--json"),
  );
  await waitForSourceLock(
    url,
    waiter,
    "the second run to wait for the source's lock",
  );
  assert.equal(waiter.exited, false);
  assert.equal(await committedPrefix(url, table), 200);

  holder.release("break");
  await assert.rejects(holder.done, /the holder's input broke/);
  const status = await within(waiter.status, 30_000, "the waiting run");
  assert.equal(status.code, 0, waiter.stderr);
  assert.match(waiter.stderr, /has 200 rows committed up to byte \d+/);
  const summary = JSON.parse(await waiter.stdout());
  assert.ok(summary.resumedAt > 0, "the waiting run did not resume");
  assert.equal(summary.rows, n - 200);
  await assertExactlyOnce(url, table, meta, n);
}
