import assert from "node:assert/strict";
import { startThrowawayCluster } from "./_cluster.ts";
import { runCli, scratchTable } from "./_helpers.ts";

const PASSWORD = "s3cret-Pa55word!";

Deno.test({
  name:
    "a server that needs a password: PGPASSWORD, a password in the URL or the config, sslmode= and PGSSLMODE work, and no password is ever printed",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const cluster = await startThrowawayCluster({ password: PASSWORD });
    const dir = await Deno.makeTempDir();
    try {
      const bare = cluster.url; // postgres://postgres@127.0.0.1:PORT/postgres
      const withPassword = bare.replace(
        "postgres@",
        `postgres:${encodeURIComponent(PASSWORD)}@`,
      );
      await Deno.writeTextFile(`${dir}/in.csv`, "id,v\n1,a\n2,b\n");
      const table = scratchTable("secret");
      const load = (args: string[], env: Record<string, string> = {}) =>
        runCli(
          ["ingest", "in.csv", "--table", table, "--create", ...args],
          { cwd: dir, env: { DATABASE_URL: "", ...env } },
        );
      const noSecret = (result: { stdout: string; stderr: string }) => {
        const output = result.stdout + result.stderr;
        assert.ok(!output.includes(PASSWORD), output);
        assert.ok(!output.includes(encodeURIComponent(PASSWORD)), output);
      };

      await t.step("PGPASSWORD fills in what the URL leaves out", async () => {
        const result = await load(["--db", bare, "--json"], {
          PGPASSWORD: PASSWORD,
        });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(JSON.parse(result.stdout).rows, 2);
        noSecret(result);
      });
      await t.step("a wrong password fails without printing it", async () => {
        const result = await load(["--db", bare, "--restart"], {
          PGPASSWORD: `${PASSWORD}-wrong`,
        });
        assert.equal(result.code, 1);
        assert.match(result.stderr, /password authentication failed/);
        assert.ok(!result.stderr.includes(`${PASSWORD}-wrong`), result.stderr);
      });
      await t.step("a password in the URL, with sslmode=disable", async () => {
        const result = await load([
          "--db",
          `${withPassword}?sslmode=disable`,
          "--restart",
        ]);
        assert.equal(result.code, 0, result.stderr);
        noSecret(result);
      });
      await t.step(
        "PGSSLMODE=require against a server without TLS fails clearly, no password shown",
        async () => {
          const result = await load(["--db", withPassword, "--restart"], {
            PGSSLMODE: "require",
          });
          assert.equal(result.code, 1);
          assert.match(
            result.stderr,
            /Cannot connect to postgres@127\.0\.0\.1:\d+\/postgres: /,
          );
          assert.match(result.stderr, /SSL/i);
          noSecret(result);
        },
      );
      await t.step(
        "a password in the config file, and a malformed URL there",
        async () => {
          await Deno.writeTextFile(
            `${dir}/good.json`,
            JSON.stringify({ connection: { db: withPassword } }),
          );
          const good = await load(["--config", "good.json", "--restart"]);
          assert.equal(good.code, 0, good.stderr);
          noSecret(good);
          await Deno.writeTextFile(
            `${dir}/bad.json`,
            JSON.stringify({
              connection: {
                db: `postgres://postgres:${PASSWORD}@[::1/db`,
              },
            }),
          );
          const bad = await load(["--config", "bad.json"]);
          assert.equal(bad.code, 1);
          assert.match(bad.stderr, /Cannot (use the database URL|connect to)/);
          noSecret(bad);
        },
      );
    } finally {
      await cluster.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
