/**
 * A throwaway PostgreSQL cluster for tests and benchmarks: initdb into a
 * temp dir, a free port, stopped and removed at the end.
 *
 * @module
 */

import { dirname, join } from "node:path";

/** A running throwaway cluster. */
export interface ThrowawayCluster {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`. */
  url: string;
  /** The port it listens on (loopback only). */
  port: number;
  /** Its data directory. */
  dataDir: string;
  /** The directory of initdb, pg_ctl and postgres. */
  binDir: string;
  /**
   * Stops the server (`mode` as in `pg_ctl stop -m`: `fast` ends sessions
   * with an error, `immediate` without a shutdown checkpoint) and starts it
   * again on the same port and data directory. Resolves once it accepts
   * connections.
   */
  restart(mode?: "fast" | "immediate"): Promise<void>;
  /** Stops the server and removes its files. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * The directory holding `initdb` and `pg_ctl`: `$PG_BIN`, else the newest
 * `/usr/lib/postgresql/NN/bin`, else wherever `initdb` is on PATH.
 *
 * @returns The directory.
 *
 * @example Usage
 * ```ts ignore
 * import { findPgBinDir } from "./_cluster.ts";
 * console.log(await findPgBinDir()); // "/usr/lib/postgresql/15/bin"
 * ```
 */
export async function findPgBinDir(): Promise<string> {
  const fromEnv = Deno.env.get("PG_BIN");
  if (fromEnv) {
    if (await exists(join(fromEnv, "initdb"))) return fromEnv;
    throw new Error(
      `Cannot use PG_BIN as PostgreSQL's server binaries: ${fromEnv} has no initdb`,
    );
  }
  const versions: number[] = [];
  try {
    for await (const entry of Deno.readDir("/usr/lib/postgresql")) {
      if (/^\d+$/.test(entry.name)) versions.push(Number(entry.name));
    }
  } catch { /* not a Debian layout */ }
  for (const version of versions.sort((a, b) => b - a)) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (await exists(join(dir, "initdb"))) return dir;
  }
  const which = await new Deno.Command("sh", {
    args: ["-c", "command -v initdb"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const path = new TextDecoder().decode(which.stdout).trim();
  if (which.success && path) return dirname(await Deno.realPath(path));
  throw new Error(
    "Cannot find PostgreSQL's server binaries (initdb, pg_ctl): install them (apt-get install -y postgresql) or set PG_BIN",
  );
}

/**
 * Starts a new cluster on a free loopback port. As root (initdb refuses
 * root) it runs as the `postgres` user, in a directory that user owns.
 *
 * @param options `password`: TCP connections must authenticate as
 *   `postgres` with it (scram-sha-256); the URL does not carry it.
 *   `durable: true` keeps the server's default durability
 *   (fsync on), for benchmarks that should see what a real server costs;
 *   tests default to `fsync=off` for speed.
 * @returns The running cluster; call `stop()` when done.
 *
 * @example Usage
 * ```ts ignore
 * import { startThrowawayCluster } from "./_cluster.ts";
 * const cluster = await startThrowawayCluster();
 * try {
 *   console.log(cluster.url);
 * } finally {
 *   await cluster.stop();
 * }
 * ```
 */
export async function startThrowawayCluster(
  options: { durable?: boolean; password?: string } = {},
): Promise<ThrowawayCluster> {
  const binDir = await findPgBinDir();
  const root = await Deno.makeTempDir({ prefix: "lanecopy-pg-" });
  const asRoot = Deno.uid() === 0;
  if (asRoot) {
    await ensurePostgresUser();
    await run("chown", ["postgres:", root]);
  }
  const pg = (tool: string, args: string[]) =>
    asRoot
      ? run("runuser", ["-u", "postgres", "--", join(binDir, tool), ...args])
      : run(join(binDir, tool), args);
  const dataDir = join(root, "data");
  const log = join(root, "server.log");
  const port = freePort();
  let started = false;
  let stopping: Promise<void> | undefined;
  // One stop for every caller: a second call (a signal handler racing a
  // finally block) waits for the first instead of deleting a live data dir.
  const stop = () =>
    stopping ??= (async () => {
      if (started) {
        await pg("pg_ctl", ["stop", "-D", dataDir, "-m", "fast", "-w"])
          .catch(() => {});
      }
      await Deno.remove(root, { recursive: true }).catch(() => {});
    })();
  // The server's output goes to its log: a piped stdout would be inherited
  // by the server and never reach end of file.
  const start = () =>
    pg("pg_ctl", [
      "start",
      "-D",
      dataDir,
      "-w",
      "-l",
      log,
      "-o",
      `-p ${port} -k '${root}' -c listen_addresses=127.0.0.1 ${
        options.durable ? "" : "-c fsync=off "
      }-c max_connections=100`,
    ]);
  const restart = async (mode: "fast" | "immediate" = "fast") => {
    if (stopping) throw new Error("Cannot restart a stopped cluster");
    await pg("pg_ctl", ["stop", "-D", dataDir, "-m", mode, "-w"]);
    await start();
  };
  try {
    // With a password, TCP connections must give it (scram-sha-256).
    const auth = ["--auth=trust"];
    if (options.password !== undefined) {
      const pwfile = join(root, "pwfile");
      await Deno.writeTextFile(pwfile, `${options.password}\n`);
      if (asRoot) await run("chown", ["postgres:", pwfile]);
      auth.push("--auth-host=scram-sha-256", `--pwfile=${pwfile}`);
    }
    await pg("initdb", [
      "-D",
      dataDir,
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
      ...auth,
      "-U",
      "postgres",
    ]);
    started = true;
    await start();
  } catch (error) {
    const tail = await Deno.readTextFile(log).then((text) => text.slice(-2000))
      .catch(() => "");
    await stop();
    throw new Error(
      `Cannot start a throwaway PostgreSQL: ${
        (error as Error).message
      }\n${tail}`,
    );
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    binDir,
    restart,
    stop,
  };
}

/**
 * A free TCP port on 127.0.0.1, as the kernel hands one out.
 *
 * @returns The port.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Creates the system user `postgres` unless it exists (initdb refuses root). */
export async function ensurePostgresUser(): Promise<void> {
  const found = await new Deno.Command("id", {
    args: ["-u", "postgres"],
    stdout: "null",
    stderr: "null",
  }).output();
  if (!found.success) {
    await run("useradd", ["--system", "--no-create-home", "postgres"]);
  }
}

/**
 * Runs `command` and returns its stdout; throws with its stderr on failure.
 *
 * @param command The program.
 * @param args Its arguments.
 * @param cwd Where it runs (default: here).
 * @returns Its standard output.
 */
export async function run(
  command: string,
  args: string[],
  cwd?: string,
): Promise<string> {
  const output = await new Deno.Command(command, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(
      `${command} ${args.join(" ")} exited ${output.code}: ${stderr}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/**
 * Whether `path` names something (a dangling symlink too).
 *
 * @param path The path.
 * @returns Whether it exists.
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
