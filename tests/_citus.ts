/**
 * A throwaway Citus cluster for the Citus suite (`deno task test:citus`):
 * a coordinator and two workers, each its own `initdb` in one temp dir, on
 * free loopback ports, stopped and removed at the end.
 *
 * Citus has no Debian package. On this repository's CI machines its
 * runtime files for PostgreSQL 15 sit beside the repository, in
 * `../shared/citus` ({@linkcode CITUS_RUNTIME}); {@linkcode citusSetup}
 * installs them when PostgreSQL lacks Citus. Elsewhere the suite runs
 * against a Citus coordinator given by `LANECOPY_CITUS_URL`, or says
 * plainly that it did not run.
 *
 * Also the helpers the suite's tests share: {@linkcode citusTest},
 * distributed scratch tables, and reads of what each node holds.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensurePostgresUser, exists, freePort, run } from "./_cluster.ts";
import { query, runCli, stopLoaders } from "./_helpers.ts";
import {
  assertExactlyOnce,
  killAfterCommits,
  laneIngestArgs,
  laneLoadArgs,
  writeRecords,
} from "./_loader.ts";

/** The PostgreSQL major version the Citus runtime files are built for. */
export const CITUS_PG_MAJOR = 15;

/**
 * The Citus runtime files of this repository's CI: `LANECOPY_CITUS_DIR`
 * when set, else `../shared/citus` beside the repository, else (for a
 * clone elsewhere on the CI machine, such as /tmp) `/work/shared/citus`.
 */
export const CITUS_RUNTIME: string = Deno.env.get("LANECOPY_CITUS_DIR") ??
  [
    fileURLToPath(new URL("../../shared/citus", import.meta.url)),
    "/work/shared/citus",
  ].find((dir) => {
    try {
      return Deno.statSync(dir).isDirectory;
    } catch {
      return false;
    }
  }) ?? fileURLToPath(new URL("../../shared/citus", import.meta.url));

/** The archive of the runtime files, unpacked at `/` as root. */
const RUNTIME_ARCHIVE = "citus-13.2.2-pg15-amd64.tar.gz";

/** A running Citus cluster. */
export interface CitusCluster {
  /** The coordinator: `postgres://postgres@127.0.0.1:PORT/postgres`. */
  url: string;
  /** The workers' URLs, as the coordinator knows them. */
  workers: string[];
  /**
   * The server processes that crashed so far, from the nodes' logs: each
   * as `node: … terminated by signal N …` and the statement it ran.
   */
  crashes(): Promise<string[]>;
  /** Stops every node and removes their files. Safe to call twice. */
  stop(): Promise<void>;
}

/** Where the Citus suite runs, or why it does not. */
export type CitusSetup =
  | { kind: "url"; url: string }
  | { kind: "throwaway"; binDir: string; install?: string }
  | { kind: "none"; reason: string };

/**
 * Decides where the Citus suite runs: on the coordinator `LANECOPY_CITUS_URL`
 * names when it is set; else on a throwaway cluster when this machine's
 * PostgreSQL 15 has Citus or {@linkcode CITUS_RUNTIME} can install it;
 * else nowhere, with the reason.
 *
 * @returns The setup; `install` is the archive to unpack first.
 *
 * @example Usage
 * ```ts ignore
 * import { citusSetup } from "./_citus.ts";
 * console.log(await citusSetup()); // { kind: "throwaway", binDir: "/usr/lib/postgresql/15/bin" }
 * ```
 */
export async function citusSetup(): Promise<CitusSetup> {
  const url = Deno.env.get("LANECOPY_CITUS_URL");
  if (url) return { kind: "url", url };
  const pgDir = Deno.env.get("PG_BIN")
    ? join(Deno.env.get("PG_BIN")!, "..")
    : `/usr/lib/postgresql/${CITUS_PG_MAJOR}`;
  const binDir = join(pgDir, "bin");
  const archive = join(CITUS_RUNTIME, RUNTIME_ARCHIVE);
  const haveRuntime = await exists(archive);
  if (await exists(join(pgDir, "lib", "citus.so"))) {
    return { kind: "throwaway", binDir };
  }
  if (!haveRuntime) {
    return {
      kind: "none",
      reason:
        `PostgreSQL has no Citus (${pgDir}/lib/citus.so), ${archive} is not there to install it, and LANECOPY_CITUS_URL is not set`,
    };
  }
  return { kind: "throwaway", binDir, install: archive };
}

/**
 * Unpacks the Citus runtime files at `/` (as root: they go under
 * `/usr/lib/postgresql` and `/usr/share/postgresql`).
 *
 * @param archive The archive.
 * @param binDir PostgreSQL's server binaries, to check the version.
 */
export async function installCitus(
  archive: string,
  binDir: string,
): Promise<void> {
  const version = await run(join(binDir, "postgres"), ["--version"]);
  if (!new RegExp(`\\) ${CITUS_PG_MAJOR}\\.`).test(version)) {
    throw new Error(
      `Cannot install ${archive}: it is built for PostgreSQL ${CITUS_PG_MAJOR}, ${binDir} is ${version.trim()}`,
    );
  }
  if (Deno.uid() !== 0) {
    throw new Error(
      `Cannot install ${archive}: that takes root (tar -xzf ${archive} -C /)`,
    );
  }
  await run("tar", ["-xzf", archive, "-C", "/"]);
}

/**
 * Starts a coordinator and two workers on free loopback ports (trust
 * auth, `fsync=off`), with `CREATE EXTENSION citus` on each and the
 * workers added to the coordinator. As root (initdb refuses root) the
 * nodes run as the `postgres` user. On any failure what was started is
 * stopped.
 *
 * @param binDir The directory of initdb and pg_ctl (PostgreSQL 15).
 * @returns The running cluster; call `stop()` when done.
 *
 * @example Usage
 * ```ts ignore
 * import { startCitusCluster } from "./_citus.ts";
 * const cluster = await startCitusCluster("/usr/lib/postgresql/15/bin");
 * try {
 *   console.log(cluster.url);
 * } finally {
 *   await cluster.stop();
 * }
 * ```
 */
export async function startCitusCluster(
  binDir: string,
): Promise<CitusCluster> {
  const root = await Deno.makeTempDir({ prefix: "lanecopy-citus-" });
  const asRoot = Deno.uid() === 0;
  const pg = (tool: string, args: string[]) =>
    asRoot
      ? run("runuser", ["-u", "postgres", "--", join(binDir, tool), ...args])
      : run(join(binDir, tool), args);
  const names = ["coordinator", "worker1", "worker2"];
  const nodes = names.map((name) => ({
    name,
    dataDir: join(root, name),
    log: join(root, `${name}.log`),
    port: 0,
    started: false,
  }));
  let stopping: Promise<void> | undefined;
  // One stop for every caller (a signal handler racing a finally block).
  const stop = () =>
    stopping ??= (async () => {
      await Promise.all(
        nodes.filter((node) => node.started).map((node) =>
          pg("pg_ctl", ["stop", "-D", node.dataDir, "-m", "fast", "-w"])
            .catch(() => {})
        ),
      );
      await Deno.remove(root, { recursive: true }).catch(() => {});
    })();
  const url = (port: number) =>
    `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    if (asRoot) {
      await ensurePostgresUser();
      await run("chown", ["postgres:", root]);
    }
    await Promise.all(nodes.map((node) =>
      pg("initdb", [
        "-D",
        node.dataDir,
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
        "--auth=trust",
        "-U",
        "postgres",
      ])
    ));
    const ports = new Set<number>();
    for (const node of nodes) {
      do node.port = freePort(); while (ports.has(node.port));
      ports.add(node.port);
    }
    // The server's output goes to its log: a piped stdout would be
    // inherited by the server and never reach end of file.
    await Promise.all(nodes.map(async (node) => {
      node.started = true;
      await pg("pg_ctl", [
        "start",
        "-D",
        node.dataDir,
        "-w",
        "-l",
        node.log,
        "-o",
        `-p ${node.port} -k '${root}' -c listen_addresses=127.0.0.1 ` +
        "-c shared_preload_libraries=citus -c fsync=off " +
        "-c max_connections=100 -c shared_buffers=32MB",
      ]);
    }));
    for (const node of nodes) {
      await psql(url(node.port), "CREATE EXTENSION citus");
    }
    const [coordinator, ...workers] = nodes;
    await psql(
      url(coordinator.port),
      `SELECT citus_set_coordinator_host('127.0.0.1', ${coordinator.port});` +
        workers.map((worker) =>
          `SELECT citus_add_node('127.0.0.1', ${worker.port});`
        ).join(""),
    );
    const crashes = async () =>
      (await Promise.all(nodes.map(async (node) => {
        const log = await Deno.readTextFile(node.log).catch(() => "");
        return [
          ...log.matchAll(
            /^.*terminated by signal.*\n(?:.*DETAIL: +(.*)\n)?/gm,
          ),
        ].map(([line, detail]) =>
          `${node.name}: ${line.split("\n")[0]}${
            detail ? `\n  ${detail.slice(0, 300)}` : ""
          }`
        );
      }))).flat();
    return {
      url: url(coordinator.port),
      workers: workers.map((worker) => url(worker.port)),
      crashes,
      stop,
    };
  } catch (error) {
    const logs = await Promise.all(
      nodes.map((node) =>
        Deno.readTextFile(node.log).then(
          (text) => `${node.name}.log:\n${text.slice(-1500)}`,
          () => "",
        )
      ),
    );
    await stop();
    throw new Error(
      `Cannot start a throwaway Citus cluster: ${(error as Error).message}\n${
        logs.filter(Boolean).join("\n")
      }`,
    );
  }
}

/** Runs `sql` on the server at `url` with psql, stopping at an error. */
async function psql(url: string, sql: string): Promise<string> {
  return await run("psql", [
    url,
    "-X",
    "-q",
    "-A",
    "-t",
    "-v",
    "ON_ERROR_STOP=1",
    "-c",
    sql,
  ]);
}

/**
 * Whether the Citus suite's runner (`tests/_citus_run.ts`) started this
 * test process, with `DATABASE_URL` on a Citus coordinator.
 */
export function inCitusSuite(): boolean {
  return Deno.env.get("LANECOPY_CITUS_SUITE") === "1";
}

/**
 * A test of the Citus suite, run on the coordinator `DATABASE_URL` names.
 * Under `deno task test:citus` it always runs; `deno task test` (a plain
 * PostgreSQL) lists it as ignored, never as passed. Like `loaderTest`, the
 * resource and op sanitizers are off and every loader still running at its
 * end is killed.
 *
 * @param name The test's name (shown after `citus: `).
 * @param fn The test.
 */
export function citusTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: `citus: ${name}`,
    ignore: !inCitusSuite(),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      try {
        await fn();
      } finally {
        await stopLoaders();
      }
    },
  });
}

/**
 * Creates `table` with the generated records' columns and a lane seq,
 * `(id int, lane text, v text, lane_seq bigint)` as `createRecordsTable`
 * makes it, and distributes it by `lane` over `shards` shards; asserts
 * its shards are on two workers (or more).
 *
 * @param url The coordinator.
 * @param table The table.
 * @param options `constraint`: a table constraint, e.g. `check (v <>
 * 'bad')`; `shards` (default 4).
 */
export async function createDistributedRecords(
  url: string,
  table: string,
  options: { constraint?: string; shards?: number } = {},
): Promise<void> {
  const constraint = options.constraint ? `, ${options.constraint}` : "";
  await query(
    url,
    `create table ${table} (id int, lane text, v text, lane_seq bigint${constraint})`,
  );
  await query(
    url,
    "select create_distributed_table($1, 'lane', shard_count => $2)",
    [table, options.shards ?? 4],
  );
  const [placed] = await query(
    url,
    `select count(distinct nodeport)::int as workers from citus_shards
      where table_name = $1::regclass`,
    [table],
  );
  assert.ok(
    Number(placed.workers) >= 2,
    `${table}'s shards are not on two workers`,
  );
}

/**
 * The rows each worker holds of the distributed `table`, read from its
 * shards on the workers themselves (not through the coordinator's plan).
 *
 * @returns Rows by worker port, every worker holding shards of it listed.
 */
export async function rowsByWorker(
  url: string,
  table: string,
): Promise<Map<number, number>> {
  const rows = await query(
    url,
    `select s.nodeport, sum(r.result::bigint)::int as n
       from run_command_on_shards($1, 'select count(*) from %s') r
       join citus_shards s using (shardid)
      where r.success
      group by s.nodeport order by s.nodeport`,
    [table],
  );
  return new Map(rows.map((row) => [row.nodeport as number, row.n as number]));
}

/** The port of the worker holding lane `lane`'s shard of `table`. */
export async function workerOfLane(
  url: string,
  table: string,
  lane: string,
): Promise<number> {
  const [row] = await query(
    url,
    `select nodeport from citus_shards
      where shardid = get_shard_id_for_distribution_column($1, $2::text)`,
    [table, lane],
  );
  return row.nodeport as number;
}

/** Asserts no node holds a prepared transaction (none in doubt). */
export async function assertNoPreparedTransactions(url: string): Promise<void> {
  const rows = await query(
    url,
    `select nodeid, result from run_command_on_all_nodes(
       'select count(*) from pg_prepared_xacts')`,
  );
  assert.ok(rows.length >= 3, "the cluster has fewer than 3 nodes");
  for (const row of rows) {
    assert.equal(
      row.result,
      "0",
      `node ${row.nodeid} has prepared transactions`,
    );
  }
}

/** How many records {@linkcode loadKillResume} loads. */
export const ROWS = 3_000;
const BATCH = 150;

/**
 * Loads records 1..{@linkcode ROWS} into `table` by lane, killed
 * (SIGKILL) after 3 committed batches and run again to its end; asserts
 * every record is there once with gapless seqs in input order and
 * counters equal to them, the source complete, and no transaction left
 * prepared on any node.
 */
export async function loadKillResume(
  url: string,
  table: string,
  meta: string,
  ...more: string[]
): Promise<void> {
  const path = await writeRecords(1, ROWS);
  await killAfterCommits(
    url,
    laneLoadArgs(url, path, table, meta, BATCH, "--verbose", ...more),
    3,
  );
  const resumed = await runCli(
    laneIngestArgs(url, path, table, meta, BATCH, ...more),
  );
  assert.equal(resumed.code, 0, resumed.stderr);
  await assertExactlyOnce(url, table, meta, ROWS);
  const [progress] = await query(
    url,
    `select bool_and(complete) as complete, sum(rows_committed)::int as rows
       from ${meta}.progress`,
  );
  assert.deepEqual(progress, { complete: true, rows: ROWS });
  await assertNoPreparedTransactions(url);
  await Deno.remove(path);
}
