import assert from "node:assert/strict";
import {
  databaseUrl,
  runCli,
  scratchLoad,
  sql,
  writeTemp,
} from "./_helpers.ts";

Deno.test("ingest as a role without rights on the bookkeeping schema says which grant or schema lets it load, and loads once granted", async () => {
  const { table, meta } = scratchLoad("rights");
  const role = `${table}_role`;
  const roleUrl = new URL(databaseUrl());
  roleUrl.username = role;
  roleUrl.password = "";
  await sql(
    `CREATE ROLE "${role}" LOGIN; GRANT CREATE ON SCHEMA public TO "${role}"`,
  );
  const path = await writeTemp("id,name\n1,ada\n2,grace\n", ".csv");
  const args = [
    "ingest",
    path,
    "--table",
    table,
    "--create",
    "--db",
    roleUrl.href,
    "--meta-schema",
    meta,
  ];
  try {
    const missing = await runCli(args);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(
      missing.stderr,
      new RegExp(
        `Cannot keep the load's progress in schema "${meta}": permission denied for database .*\\. ` +
          `Have a superuser run CREATE SCHEMA "${meta}" AUTHORIZATION "${role}", ` +
          `or give a schema this role may use with --meta-schema NAME`,
      ),
    );

    await sql(`CREATE SCHEMA "${meta}"`);
    const denied = await runCli(args);
    assert.equal(denied.code, 1, denied.stderr);
    assert.match(
      denied.stderr,
      new RegExp(
        `Cannot keep the load's progress in schema "${meta}": permission denied for schema ${meta}\\. ` +
          `Have its owner or a superuser run GRANT USAGE, CREATE ON SCHEMA "${meta}" TO "${role}"`,
      ),
    );
    assert.match(denied.stderr, /--meta-schema NAME/);
    const [{ n }] = await sql(
      `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = '${meta}'`,
    );
    assert.equal(n, 0, "nothing was created in the schema");

    await sql(`GRANT USAGE, CREATE ON SCHEMA "${meta}" TO "${role}"`);
    const granted = await runCli(args);
    assert.equal(granted.code, 0, granted.stderr);
    const [{ rows }] = await sql(
      `SELECT count(*)::int AS rows FROM "${table}"`,
    );
    assert.equal(rows, 2);
  } finally {
    await Deno.remove(path);
    await sql(
      `DROP TABLE IF EXISTS "${table}"; DROP SCHEMA IF EXISTS "${meta}" CASCADE; ` +
        `DROP OWNED BY "${role}"; DROP ROLE "${role}"`,
    );
  }
});
