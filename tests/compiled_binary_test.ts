import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const decoder = new TextDecoder();

/**
 * Why `deno compile` cannot build an executable here, or undefined when it
 * can. It needs its runtime, denort: the file DENORT_BIN names, else the
 * release build it downloads (and caches) for this Deno version. With no
 * DENORT_BIN, one compile of a one-line file finds out; a failure other than
 * the runtime's download is no reason to skip, so the test runs and shows it.
 */
async function compileRuntimeMissing(): Promise<string | undefined> {
  if (Deno.env.get("DENORT_BIN")) return undefined;
  const dir = await Deno.makeTempDir({ prefix: "lanecopy_denort_probe_" });
  try {
    await Deno.writeTextFile(join(dir, "probe.ts"), "console.log(1);\n");
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "compile",
        "--no-config",
        "--no-check",
        "--output",
        join(dir, "probe"),
        join(dir, "probe.ts"),
      ],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(180_000),
    }).output();
    if (success) return undefined;
    const message = decoder.decode(stderr);
    if (/denort|dl\.deno\.land|base binary/i.test(message)) {
      return "deno compile cannot download its runtime (denort) and DENORT_BIN is not set";
    }
    return undefined;
  } catch (error) {
    if ((error as Error).name === "AbortError") {
      return "deno compile's download of its runtime (denort) timed out and DENORT_BIN is not set";
    }
    throw error;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the binary in `dir` as a user would: that directory as cwd, and an
 * environment naming no server (no DATABASE_URL, no PG* variables) and no
 * LANECOPY_CWD.
 */
async function runBinary(
  binary: string,
  dir: string,
  args: string[],
): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command(binary, {
    args,
    cwd: dir,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: dir,
      NO_COLOR: "1",
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

const NAME =
  "deno task compile builds one lanecopy binary that loads a CSV into its embedded database and queries it from a directory with no deno.json";
const missing = await compileRuntimeMissing();

if (missing !== undefined) {
  Deno.test({
    name: `${NAME} (not run: ${missing})`,
    ignore: true,
    fn() {},
  });
} else {
  Deno.test(NAME, async () => {
    const compile = await new Deno.Command(Deno.execPath(), {
      args: ["task", "compile"],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(
      compile.success,
      `deno task compile failed:\n${decoder.decode(compile.stderr)}`,
    );
    const dir = await Deno.makeTempDir({ prefix: "lanecopy_binary_" });
    try {
      const binary = join(dir, "lanecopy");
      await Deno.copyFile(join(ROOT, "dist", "lanecopy"), binary);
      await Deno.chmod(binary, 0o755);
      await Deno.writeTextFile(
        join(dir, "orders.csv"),
        'id,region,note\n1,eu,first\n2,us,\n3,eu,"a ""quoted"", note"\n',
      );

      const load = await runBinary(binary, dir, [
        "ingest",
        "orders.csv",
        "--table",
        "orders",
        "--create",
      ]);
      assert.equal(load.code, 0, load.stderr);
      assert.match(
        load.stderr,
        /loaded 3 rows from .*orders\.csv into public\.orders/,
      );

      const count = await runBinary(binary, dir, [
        "sql",
        "select count(*) from orders",
      ]);
      assert.equal(count.code, 0, count.stderr);
      assert.equal(count.stdout, "count\n-----\n3\n(1 row)\n");

      const rows = await runBinary(binary, dir, [
        "sql",
        "select id, region, note from orders order by id",
        "--json",
      ]);
      assert.equal(rows.code, 0, rows.stderr);
      assert.deepEqual(
        rows.stdout.trimEnd().split("\n").map((line) => JSON.parse(line)),
        [
          { id: "1", region: "eu", note: "first" },
          { id: "2", region: "us", note: null },
          { id: "3", region: "eu", note: 'a "quoted", note' },
        ],
      );
      // The rows are in the default data directory, under the caller's cwd.
      assert.ok((await Deno.stat(join(dir, ".lanecopy", "db"))).isDirectory);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
