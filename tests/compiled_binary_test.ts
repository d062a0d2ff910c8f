/**
 * `deno task compile` as a user meets it: built in a copy of the project,
 * that copy then deleted (the clone moved away), the executable copied to
 * an empty directory and run there with an environment that names no
 * server and whose `deno` fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cutLockfile } from "../src/cli/build_executable.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const decoder = new TextDecoder();

/** What a run of the executable printed and returned. */
interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `./lanecopy` in `dir` as a user would: that directory as cwd, and
 * an environment with no DATABASE_URL, no PG* variables and no DENO_DIR,
 * whose first `deno` on PATH fails (`bin/deno` in `dir`), so a run that
 * leaned on an installed Deno would show it.
 */
async function runExecutable(dir: string, args: string[]): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command(
    join(dir, "lanecopy"),
    {
      args,
      cwd: dir,
      clearEnv: true,
      env: {
        PATH: `${join(dir, "bin")}:/usr/bin:/bin`,
        HOME: dir,
        NO_COLOR: "1",
      },
      stdin: "null",
    },
  ).output();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

/** Copies the parts of the project the build reads into `to`. */
async function copyProject(to: string): Promise<void> {
  for (const part of ["src", "schemas", "deno.json", "deno.lock"]) {
    const { success } = await new Deno.Command("cp", {
      args: ["-r", join(ROOT, part), join(to, part)],
    }).output();
    assert.ok(success, `cannot copy ${part}`);
  }
}

Deno.test("deno task compile builds one executable that, copied into an empty directory with the project gone, loads a CSV into its embedded database and queries it", async () => {
  const clone = await Deno.makeTempDir({ prefix: "lanecopy_clone_" });
  const dir = await Deno.makeTempDir({ prefix: "lanecopy_user_" });
  try {
    await copyProject(clone);
    const build = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "compile"],
      cwd: clone,
      env: { NO_COLOR: "1" },
      stdin: "null",
    }).output();
    assert.equal(build.code, 0, decoder.decode(build.stderr));
    await Deno.copyFile(join(clone, "dist", "lanecopy"), join(dir, "lanecopy"));
    await Deno.chmod(join(dir, "lanecopy"), 0o755);
    await Deno.remove(clone, { recursive: true });
    await Deno.mkdir(join(dir, "bin"));
    await Deno.writeTextFile(
      join(dir, "bin", "deno"),
      "#!/bin/sh\necho 'not this deno' >&2\nexit 97\n",
      { mode: 0o755 },
    );

    await Deno.writeTextFile(
      join(dir, "orders.csv"),
      'id,customer,note\n1,ada,"first, with a comma"\n2,grace,\n3,"",""\n',
    );
    const ingest = await runExecutable(dir, [
      "ingest",
      "orders.csv",
      "--table",
      "orders",
      "--create",
    ]);
    assert.equal(ingest.code, 0, ingest.stderr);
    assert.match(ingest.stdout + ingest.stderr, /loaded 3 rows/);

    const count = await runExecutable(dir, [
      "sql",
      "select count(*) from orders",
    ]);
    assert.equal(count.code, 0, count.stderr);
    assert.equal(count.stdout, "count\n-----\n3\n(1 row)\n");

    const rows = await runExecutable(dir, [
      "sql",
      "select id, customer, note from orders order by id",
      "--json",
    ]);
    assert.equal(rows.code, 0, rows.stderr);
    assert.deepEqual(
      rows.stdout.trim().split("\n").map((line) => JSON.parse(line)),
      [
        { id: 1, customer: "ada", note: "first, with a comma" },
        { id: 2, customer: "grace", note: null },
        { id: 3, customer: "", note: "" },
      ],
    );
    // Typed by --create (id integer). The rows are in the user's directory;
    // the program unpacked under HOME.
    assert.ok((await Deno.stat(join(dir, ".lanecopy", "db"))).isDirectory);
    assert.ok((await Deno.stat(join(dir, ".cache", "lanecopy"))).isDirectory);

    // A bad record is still file:line:column and exit 2 from the executable.
    await Deno.writeTextFile(join(dir, "bad.csv"), 'id\n1\n"2\n');
    const bad = await runExecutable(dir, [
      "ingest",
      "bad.csv",
      "--table",
      "bad",
      "--create",
    ]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /bad\.csv:3:1: /);
  } finally {
    await Deno.remove(clone, { recursive: true }).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("The executable's lockfile is deno.lock cut to what the command imports", async () => {
  const lock = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.lock")));
  const cut = cutLockfile(lock, ["npm:pg@8.23.1", "npm:p-retry@9.0.0"]);
  assert.deepEqual(Object.keys(cut.specifiers), [
    "npm:pg@8.23.1",
    "npm:p-retry@9.0.0",
  ]);
  const names = Object.keys(cut.npm);
  assert.ok(names.some((key) => key.startsWith("pg-protocol@")));
  assert.ok(names.some((key) => key.startsWith("pg-pool@")));
  assert.ok(names.some((key) => key.startsWith("is-network-error@")));
  assert.ok(!names.some((key) => key.startsWith("vega")));
  for (const key of names) assert.deepEqual(cut.npm[key], lock.npm[key]);
  assert.throws(
    () => cutLockfile(lock, ["npm:left-pad@1.3.0"]),
    /deno.lock has no npm:left-pad@1.3.0/,
  );
});
