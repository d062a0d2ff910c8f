import assert from "node:assert/strict";
import { DEFAULTS } from "../src/defaults.ts";
import { parseConfig, readConfig } from "../src/cli/config.ts";
import { UsageError } from "../src/errors.ts";
import { runCli } from "./_helpers.ts";

/** Every option the schema documents, set. */
const EVERY_OPTION = `{
  // JSONC: comments and trailing commas are fine
  "$schema": "../schemas/ingest.schema.json",
  "table": "sales.orders",
  "create": true,
  "batch_size": 5000,
  "flush_ms": 250,
  "lane": "region",
  "seq_column": "seq",
  "source_id": "orders-feed",
  "wait": true,
  "reject_file": "rejects.csv",
  "max_rejects": 10,
  "atomic": false,
  "parallel": 2,
  "format": "csv",
  "codec": "ts",
  "connection": {
    "db": "postgres://app@db/shop",
    "data_dir": "state/db",
    "meta_schema": "bookkeeping",
    "retries": 3,
  },
  "csv": {
    "delimiter": ";",
    "quote": "'",
    "escape": "\\\\",
    "null": "NA",
    "header": false,
    "columns": ["id", "region", "amount"],
    "encoding": "latin1",
  },
}`;

Deno.test("parseConfig() accepts every documented option of the composed schema", async () => {
  assert.deepEqual(await parseConfig(EVERY_OPTION, "every.jsonc"), {
    table: "sales.orders",
    create: true,
    batchSize: 5000,
    flushMs: 250,
    lane: "region",
    seqColumn: "seq",
    sourceId: "orders-feed",
    wait: true,
    rejectFile: "rejects.csv",
    maxRejects: 10,
    atomic: false,
    parallel: 2,
    format: "csv",
    codec: "ts",
    db: "postgres://app@db/shop",
    dataDir: "state/db",
    metaSchema: "bookkeeping",
    retries: 3,
    delimiter: ";",
    quote: "'",
    escape: "\\",
    nullString: "NA",
    header: false,
    columns: ["id", "region", "amount"],
    encoding: "latin1",
  });
});

Deno.test("parseConfig() fails a typo at any depth with its line, column, JSON pointer and the allowed names", async (t) => {
  const cases: [string, string, RegExp][] = [
    [
      `{ "tabel": "t" }`,
      "top level",
      /^c\.json:1:3: \/tabel is not an option \(allowed there: batch_size, flush_ms, table, create, lane, seq_column, source_id, wait, reject_file, max_rejects, atomic, parallel, routing, on_conflict, key, replace, copy_format, format, extra_keys, codec, connection, csv\)$/,
    ],
    [
      `{\n  "csv": {\n    "delimeter": ";"\n  }\n}`,
      "inside csv",
      /^c\.json:3:5: \/csv\/delimeter is not an option \(allowed there: delimiter, quote, escape, null, header, columns, extra_columns, encoding\)$/,
    ],
    [
      `{ "connection": { "url": "postgres://x" } }`,
      "inside connection",
      /^c\.json:1:19: \/connection\/url is not an option \(allowed there: db, data_dir, retries, meta_schema\)$/,
    ],
  ];
  for (const [text, name, expected] of cases) {
    await t.step(name, async () => {
      await assert.rejects(parseConfig(text, "c.json"), (error: unknown) => {
        assert.ok(error instanceof UsageError);
        assert.match(error.message, expected);
        return true;
      });
    });
  }
});

Deno.test("parseConfig() names the option and the rule a wrong value breaks", async (t) => {
  const cases: [string, RegExp][] = [
    [
      `{ "batch_size": "10k" }`,
      /c\.json:1:17: \/batch_size must be an integer$/,
    ],
    [`{ "batch_size": 0 }`, /c\.json:1:17: \/batch_size must be >= 1$/],
    [
      `{ "csv": { "delimiter": ";;" } }`,
      /\/csv\/delimiter must NOT have more than 1 character/,
    ],
    [
      `{ "csv": { "extra_columns": "skip" } }`,
      /\/csv\/extra_columns must be equal to one of the allowed values/,
    ],
    [`{ "csv": [] }`, /\/csv must be an object/],
    [`[1]`, /c\.json:1:1: The config must be an object$/],
  ];
  for (const [text, expected] of cases) {
    await t.step(text, async () => {
      await assert.rejects(parseConfig(text, "c.json"), expected);
    });
  }
});

Deno.test("parseConfig() names where text that is not JSON goes wrong", async () => {
  await assert.rejects(
    parseConfig(`{\n  "table": "t"\n  "lane": "x"\n}`, "c.json"),
    /c\.json:3:3: Cannot read the config: comma expected$/,
  );
  await assert.rejects(
    parseConfig("", "c.json"),
    /c\.json:1:1: Cannot read the config/,
  );
});

Deno.test("parseConfig() never prints the value of an option, so a password in a URL stays out of errors", async () => {
  await assert.rejects(
    parseConfig(
      `{ "connection": { "db": "postgres://u:s3cret@h/d", "x": 1 } }`,
      "c.json",
    ),
    (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.doesNotMatch(error.message, /s3cret/);
      return true;
    },
  );
});

Deno.test("DEFAULTS come from the schema files", async () => {
  const read = async (name: string) =>
    JSON.parse(
      await Deno.readTextFile(new URL(`../schemas/${name}`, import.meta.url)),
    );
  const batchable = await read("batchable.schema.json");
  const connection = await read("connection.schema.json");
  assert.equal(DEFAULTS.batchSize, batchable.properties.batch_size.default);
  assert.equal(DEFAULTS.metaSchema, connection.properties.meta_schema.default);
  assert.equal(DEFAULTS.dataDir, connection.properties.data_dir.default);
});

Deno.test("readConfig() says which file it cannot read", async () => {
  await assert.rejects(
    readConfig("/nonexistent/lanecopy.json"),
    /Cannot read config \/nonexistent\/lanecopy\.json/,
  );
});

Deno.test("ingest --config with a typo fails before loading, exit 1, naming the key", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/c.json`, `{ "table": "t", "batchsize": 5 }`);
  await Deno.writeTextFile(`${dir}/x.csv`, "a\n1\n");
  const result = await runCli(
    ["ingest", "x.csv", "--config", "c.json"],
    { cwd: dir },
  );
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /c\.json:1:17: \/batchsize is not an option \(allowed there: batch_size, flush_ms/,
  );
  await Deno.remove(dir, { recursive: true });
});
