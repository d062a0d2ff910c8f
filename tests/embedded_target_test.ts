import assert from "node:assert/strict";
import { join } from "node:path";
import { openTarget } from "../src/mod.ts";
import { ExitCode, type UsageError } from "../src/errors.ts";
import { EmbeddedTarget } from "../src/target/embedded_target.ts";
import { unpackTemplate } from "../src/target/_embedded_template.ts";
import { runEmbedded } from "./_helpers.ts";

Deno.test("the embedded database serves one process at a time: a second gets exit 4 naming the holder", async () => {
  // The suite runs with DATABASE_URL set; runEmbedded() passes an empty
  // one, which means "embedded".
  const dataDir = await Deno.makeTempDir();
  const target = await openTarget({ db: "", dataDir });
  try {
    const busy = await runEmbedded(dataDir, ["sql", "select 1 as one"]);
    assert.equal(busy.code, 4);
    assert.match(
      busy.stderr,
      new RegExp(`lanecopy pid ${Deno.pid} is using it`),
    );
    await assert.rejects(
      openTarget({ db: "", dataDir }),
      /is using it/,
    );
  } finally {
    await target.close();
  }
  const free = await runEmbedded(dataDir, ["sql", "select 1 as one"]);
  assert.equal(free.code, 0, free.stderr);
  assert.match(free.stdout, /one/);
  await Deno.remove(dataDir, { recursive: true });
  await Deno.remove(`${dataDir}.lock`);
});

const spec = {
  table: { schema: "public", table: "t" },
  columns: ["a"],
  format: "text" as const,
};

/** The system identifier and a setting of the embedded database in `dir`. */
async function identity(
  dataDir: string,
): Promise<{ id: string; sharedBuffers: string }> {
  const target = await EmbeddedTarget.open(dataDir);
  try {
    const { rows } = await target.query(
      `select system_identifier::text as id,
              current_setting('shared_buffers') as "sharedBuffers"
         from pg_control_system()`,
    );
    return rows[0] as { id: string; sharedBuffers: string };
  } finally {
    await target.close();
  }
}

Deno.test("EmbeddedTarget.open() makes a new database from the shipped template, not PGlite's initdb", async () => {
  const parent = await Deno.makeTempDir();
  const missing = join(parent, "missing", "db"); // not there yet
  const empty = await Deno.makeTempDir({ dir: parent });
  try {
    // initdb gives each database a system identifier of its own; copies of
    // the template share the template's. If this fails on opening, the
    // template is stale: deno run -A src/target/_embedded_template.ts
    const a = await identity(missing);
    const b = await identity(empty);
    assert.equal(a.id, b.id);
    assert.equal(a.sharedBuffers, "16MB");
    const target = await EmbeddedTarget.open(missing);
    await target.query("create table t (a int)");
    assert.equal(await target.copyFrom(spec, enc("1\n2\n")), 2);
    await target.close();
    assert.deepEqual(await identity(missing), a); // reopened, not remade
    const entries = [];
    for await (const entry of Deno.readDir(join(parent, "missing"))) {
      entries.push(entry.name);
    }
    assert.deepEqual(entries.sort(), ["db", "db.lock"]); // no db.new left
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("EmbeddedTarget.open() replaces a DATADIR.new a crash left, takes a trailing slash or a symlink, and refuses a directory with other files", async () => {
  const parent = await Deno.makeTempDir();
  const dataDir = join(parent, "db");
  try {
    await Deno.mkdir(`${dataDir}.new/base`, { recursive: true });
    await Deno.writeTextFile(`${dataDir}.new/PG_VERSION`, "half\n");
    await (await EmbeddedTarget.open(dataDir)).close();
    await assert.rejects(Deno.stat(`${dataDir}.new`), Deno.errors.NotFound);
    assert.equal(await Deno.readTextFile(join(dataDir, "PG_VERSION")), "18\n");
    // A trailing slash names the same directory, not a parent of DATADIR.new,
    // and a symlink stays a symlink to where the database is.
    await (await EmbeddedTarget.open(`${parent}/slashed/`)).close();
    assert.ok((await Deno.stat(`${parent}/slashed/PG_VERSION`)).isFile);
    await Deno.mkdir(join(parent, "real"));
    await Deno.symlink(join(parent, "real"), join(parent, "link"));
    await (await EmbeddedTarget.open(join(parent, "link"))).close();
    assert.ok((await Deno.lstat(join(parent, "link"))).isSymlink);
    assert.ok((await Deno.stat(join(parent, "real", "PG_VERSION"))).isFile);

    const other = join(parent, "other");
    await Deno.mkdir(other);
    await Deno.writeTextFile(join(other, "notes.txt"), "mine");
    await assert.rejects(
      EmbeddedTarget.open(other),
      (error: UsageError) => {
        assert.equal(error.exitCode, ExitCode.Refused);
        assert.match(error.message, /not empty and holds no database/);
        return true;
      },
    );
    const left = [];
    for await (const entry of Deno.readDir(other)) left.push(entry.name);
    assert.deepEqual(left, ["notes.txt"]);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("unpackTemplate() leaves the directory alone when the template cannot be read", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const gone = new URL("./no_such_template.tar.gz", import.meta.url);
    assert.equal(await unpackTemplate(dataDir, gone), false);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(dataDir)), []);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a batch the embedded database committed survives a SIGKILL of the process", async () => {
  const dataDir = await Deno.makeTempDir();
  const module = new URL("../src/target/embedded_target.ts", import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { EmbeddedTarget } from "${module.href}";
       const target = await EmbeddedTarget.open(${JSON.stringify(dataDir)});
       await target.query("create table t (a int)");
       await target.transaction((session) =>
         session.copyFrom(${
        JSON.stringify(spec)
      }, new TextEncoder().encode("1\\n2\\n3\\n"))
       );
       console.log("committed");
       await new Promise(() => {});`,
    ],
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let out = "";
    while (!out.includes("committed")) {
      const { value, done } = await reader.read();
      assert.ok(!done, `the child ended before committing: ${out}`);
      out += value;
    }
    child.kill("SIGKILL");
    reader.releaseLock();
    await child.stdout.cancel().catch(() => {});
    assert.equal((await child.status).signal, "SIGKILL");
    const target = await EmbeddedTarget.open(dataDir);
    const { rows } = await target.query("select sum(a)::int as sum from t");
    await target.close();
    assert.deepEqual(rows, [{ sum: 6 }]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(`${dataDir}.lock`).catch(() => {});
  }
});

function enc(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}
