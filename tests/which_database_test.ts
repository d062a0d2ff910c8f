/**
 * Which database the command uses, said out loud: `--db` (a URL or libpq
 * keywords), else `DATABASE_URL`, else libpq's variables, else the
 * embedded database; every summary names it, and no password is shown.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startThrowawayCluster } from "./_cluster.ts";
import {
  type CliResult,
  databaseUrl,
  removeDataDir,
  runCli,
  scratchTable,
  sql,
} from "./_helpers.ts";

/** No server from the environment the tests run in: each run says its own. */
const NO_SERVER = {
  DATABASE_URL: "",
  PGHOST: "",
  PGHOSTADDR: "",
  PGPORT: "",
  PGDATABASE: "",
  PGSERVICE: "",
};

/** The test server's parts, as libpq's variables and as a summary names it. */
function serverParts() {
  const url = new URL(databaseUrl());
  const parts = {
    host: url.hostname,
    port: url.port || "5432",
    user: decodeURIComponent(url.username),
    dbname: decodeURIComponent(url.pathname.slice(1)),
  };
  return {
    ...parts,
    env: {
      ...NO_SERVER,
      PGHOST: parts.host,
      PGPORT: parts.port,
      PGUSER: parts.user,
      PGDATABASE: parts.dbname,
    },
    named: `${parts.user}@${parts.host}:${parts.port}/${parts.dbname}`,
  };
}

/** A directory holding `people.csv` (3 rows). */
async function peopleDir(): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    join(dir, "people.csv"),
    "id,name\n1,ada\n2,bob\n3,cy\n",
  );
  return dir;
}

/** `result`'s stderr as lines, the empty last one left out. */
function lines(result: CliResult): string[] {
  return result.stderr.split("\n").filter((line) => line !== "");
}

Deno.test("with no --db and no DATABASE_URL, libpq's PGHOST, PGPORT, PGUSER and PGDATABASE pick the server, and the summary names it", async () => {
  const server = serverParts();
  const dir = await peopleDir();
  const table = scratchTable("which_env");
  try {
    const text = await runCli(
      ["ingest", "people.csv", "--table", table, "--create"],
      { cwd: dir, env: server.env },
    );
    assert.equal(text.code, 0, text.stderr);
    assert.ok(
      text.stderr.includes(
        `loaded 3 rows from people.csv into public.${table} (${server.named}) in 1 batch, `,
      ),
      text.stderr,
    );
    const [{ n }] = await sql(`select count(*)::int as n from ${table}`);
    assert.equal(n, 3);

    const json = await runCli(
      ["ingest", "people.csv", "--table", table, "--restart", "--json"],
      { cwd: dir, env: server.env },
    );
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).destination, server.named);

    const status = await runCli(["status", "--json"], { env: server.env });
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(lines(status), [`lanecopy: using ${server.named}`]);
    JSON.parse(status.stdout);
  } finally {
    await sql(`drop table if exists ${table}`);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--db takes libpq keyword/value settings, quoted and escaped as libpq reads them", async (t) => {
  const server = serverParts();
  const base =
    `host=${server.host} port=${server.port} user=${server.user} dbname=${server.dbname}`;
  const dir = await peopleDir();
  const table = scratchTable("which_keywords");
  try {
    await t.step("ingest and sql name the server", async () => {
      const load = await runCli(
        ["ingest", "people.csv", "--table", table, "--create", "--db", base],
        { cwd: dir, env: NO_SERVER },
      );
      assert.equal(load.code, 0, load.stderr);
      assert.match(load.stderr, new RegExp(`\\(${server.named}\\) in 1 batch`));
      const query = await runCli(
        [
          "sql",
          `select count(*)::int as n from ${table}`,
          "--json",
          "--db",
          base,
        ],
        { env: NO_SERVER },
      );
      assert.equal(query.code, 0, query.stderr);
      assert.deepEqual(JSON.parse(query.stdout), { n: 3 });
      assert.deepEqual(lines(query), [`lanecopy: using ${server.named}`]);
    });
    // Each value reaches the server as the application name: lanecopy's
    // reading of the string must be libpq's (psql's) reading of it.
    const cases = [
      String.raw`'two words'`,
      String.raw`'it\'s'`,
      String.raw`back\\slash`,
      String.raw`'a=b c=d'`,
      String.raw`escaped\ space`,
      String.raw`'\q\u\o\t\e\d'`,
      String.raw`  'spaced around'  `,
    ];
    for (const value of cases) {
      await t.step(`application_name=${value}`, async () => {
        const conninfo = `${base} application_name =${value}`;
        const ours = await runCli(
          ["sql", "show application_name", "--json", "--db", conninfo],
          { env: NO_SERVER },
        );
        assert.equal(ours.code, 0, ours.stderr);
        const libpq = await new Deno.Command("psql", {
          args: [conninfo, "-X", "-A", "-t", "-c", "show application_name"],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const decoder = new TextDecoder();
        assert.ok(libpq.success, decoder.decode(libpq.stderr));
        assert.equal(
          JSON.parse(ours.stdout).application_name,
          decoder.decode(libpq.stdout).replace(/\n$/, ""),
        );
      });
    }
  } finally {
    await sql(`drop table if exists ${table}`);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a connection string that is not PostgreSQL's is refused in one line, exit 1, its password not shown", async () => {
  const dir = await peopleDir();
  try {
    for (const db of ["mysql://root:Hunter2pw@db/shop", "sqlite:shop.db"]) {
      const result = await runCli(
        ["ingest", "people.csv", "--table", "people", "--db", db],
        { cwd: dir, env: NO_SERVER },
      );
      assert.equal(result.code, 1, result.stderr);
      const [line, ...more] = lines(result);
      assert.deepEqual(more, [], result.stderr);
      assert.match(
        line,
        /^lanecopy: Cannot use a (mysql:\/\/|sqlite:) connection string: lanecopy loads into PostgreSQL only \(give --db a postgres:\/\/ URL, or settings such as "host=db dbname=shop"\)$/,
      );
      assert.ok(!result.stderr.includes("Hunter2pw"), result.stderr);
    }
    const typo = await runCli(
      ["sql", "select 1", "--db", "host=db dbanme=shop password=Hunter2pw"],
      { env: NO_SERVER },
    );
    assert.equal(typo.code, 1);
    assert.deepEqual(lines(typo), [
      'lanecopy: Cannot use the connection string: "dbanme" is not a libpq setting (host, hostaddr, port, dbname, user, password, sslmode, …)',
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the embedded database's summary, sql and status name its directory", async () => {
  const dir = await peopleDir();
  const dataDir = join(dir, "db");
  try {
    const text = await runCli(
      [
        "ingest",
        "people.csv",
        "--table",
        "people",
        "--create",
        "--data-dir",
        dataDir,
      ],
      { cwd: dir, env: NO_SERVER },
    );
    assert.equal(text.code, 0, text.stderr);
    assert.ok(
      text.stderr.includes(
        `loaded 3 rows from people.csv into public.people (${dataDir}) in 1 batch, `,
      ),
      text.stderr,
    );
    const json = await runCli(
      [
        "ingest",
        "people.csv",
        "--table",
        "people",
        "--restart",
        "--json",
        "--data-dir",
        dataDir,
      ],
      { cwd: dir, env: NO_SERVER },
    );
    assert.equal(json.code, 0, json.stderr);
    assert.equal(JSON.parse(json.stdout).destination, dataDir);
    const query = await runCli(
      [
        "sql",
        "select count(*)::int as n from people",
        "--json",
        "--data-dir",
        dataDir,
      ],
      { env: NO_SERVER },
    );
    assert.equal(query.code, 0, query.stderr);
    assert.deepEqual(JSON.parse(query.stdout), { n: 6 });
    assert.deepEqual(lines(query), [
      `lanecopy: using the embedded database at ${dataDir}`,
    ]);
    const status = await runCli(["status", "--data-dir", dataDir], {
      env: NO_SERVER,
    });
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(lines(status), [
      `lanecopy: using the embedded database at ${dataDir}`,
    ]);
  } finally {
    await removeDataDir(dataDir).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "a server that needs a password: none given is one clear line; ~/.pgpass (PGPASSFILE) and a service file fill it in; no password is printed",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const password = "Sq'ueam1sh\\Pa55";
    const cluster = await startThrowawayCluster({ password });
    const dir = await peopleDir();
    const named = `postgres@127.0.0.1:${cluster.port}/postgres`;
    const env = {
      ...NO_SERVER,
      PGHOST: "127.0.0.1",
      PGPORT: String(cluster.port),
      PGUSER: "postgres",
      PGPASSFILE: join(dir, "no-such-pgpass"),
    };
    const wrong = "Sq'uish wrong";
    const noPassword = (result: CliResult) => {
      const output = result.stdout + result.stderr;
      for (const secret of [password, "ueam1sh", wrong, "uish wrong"]) {
        assert.ok(!output.includes(secret), output);
      }
    };
    try {
      await t.step("none given: one line saying what to do", async () => {
        for (const args of [[], ["--db", cluster.url]]) {
          const result = await runCli(
            ["ingest", "people.csv", "--table", "people", "--create", ...args],
            { cwd: dir, env: { ...env, PGPASSWORD: "" } },
          );
          assert.equal(result.code, 1, result.stderr);
          assert.deepEqual(lines(result), [
            `lanecopy: Cannot connect to ${named}: the server asks for a password and none was given (set PGPASSWORD, add it to ~/.pgpass, or give it in --db)`,
          ]);
          noPassword(result);
        }
      });
      await t.step("the password file named by PGPASSFILE", async () => {
        const pgpass = join(dir, "pgpass");
        await Deno.writeTextFile(
          pgpass,
          `127.0.0.1:${cluster.port}:*:postgres:${
            password.replaceAll("\\", "\\\\").replaceAll(":", "\\:")
          }\n`,
          { mode: 0o600 },
        );
        const result = await runCli(
          ["ingest", "people.csv", "--table", "people", "--create"],
          { cwd: dir, env: { ...env, PGPASSFILE: pgpass } },
        );
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, new RegExp(`\\(${named}\\) in 1 batch`));
        noPassword(result);
      });
      await t.step("a service (PGSERVICE, then service= in --db)", async () => {
        const services = join(dir, "pg_service.conf");
        await Deno.writeTextFile(
          services,
          `# lanecopy's test\n[shop]\nhost=127.0.0.1\nport=${cluster.port}\nuser=postgres\npassword=${password}\n\n[elsewhere]\nport=1\n`,
        );
        const serviceEnv = { ...NO_SERVER, PGSERVICEFILE: services };
        const fromVariable = await runCli(
          ["sql", "select count(*)::int as n from people", "--json"],
          { env: { ...serviceEnv, PGSERVICE: "shop" } },
        );
        assert.equal(fromVariable.code, 0, fromVariable.stderr);
        assert.deepEqual(JSON.parse(fromVariable.stdout), { n: 3 });
        assert.deepEqual(lines(fromVariable), [`lanecopy: using ${named}`]);
        const fromKeyword = await runCli(
          ["status", "--db", "service=shop dbname=postgres"],
          { env: serviceEnv },
        );
        assert.equal(fromKeyword.code, 0, fromKeyword.stderr);
        assert.deepEqual(lines(fromKeyword), [`lanecopy: using ${named}`]);
        const missing = await runCli(
          ["status", "--db", "service=nowhere"],
          { env: serviceEnv },
        );
        assert.equal(missing.code, 1);
        assert.equal(lines(missing).length, 1, missing.stderr);
        assert.match(missing.stderr, /Cannot use service "nowhere"/);
        for (const result of [fromVariable, fromKeyword, missing]) {
          noPassword(result);
        }
      });
      await t.step("a wrong password in keywords is not printed", async () => {
        const result = await runCli(
          [
            "sql",
            "select 1",
            "--db",
            `host=127.0.0.1 port=${cluster.port} user=postgres password='${
              wrong.replaceAll("'", "\\'")
            }'`,
          ],
          { env: NO_SERVER },
        );
        assert.equal(result.code, 1);
        assert.match(result.stderr, /password authentication failed/);
        noPassword(result);
      });
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
