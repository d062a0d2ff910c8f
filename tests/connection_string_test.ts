import assert from "node:assert/strict";
import fc from "fast-check";
import {
  formatConnectionString,
  parseConnectionString,
  serviceSettings,
} from "../src/target/connection_string.ts";
import { UsageError } from "../src/errors.ts";

Deno.test("parseConnectionString() reads keyword/value settings by libpq's rules", async (t) => {
  const cases: [string, Record<string, string>][] = [
    ["", {}],
    ["host=db", { host: "db" }],
    ["  host = db \t port=5433\n", { host: "db", port: "5433" }],
    ["password='a b'", { password: "a b" }],
    [String.raw`password='it\'s'`, { password: "it's" }],
    [String.raw`password=back\\slash`, { password: String.raw`back\slash` }],
    [String.raw`password=a\ b`, { password: "a b" }],
    [String.raw`password='\q'`, { password: "q" }],
    ["options='-c search_path=x'", { options: "-c search_path=x" }],
    ["password= user=app", { password: "user=app" }],
    ["password='' user=app", { password: "", user: "app" }],
    ["host=a host=b", { host: "b" }],
    ["host=::1 dbname=x", { host: "::1", dbname: "x" }],
  ];
  for (const [text, settings] of cases) {
    await t.step(JSON.stringify(text), () => {
      assert.deepEqual(parseConnectionString(text), settings);
    });
  }
});

Deno.test("parseConnectionString() refuses what libpq refuses, never echoing a value", () => {
  const refused: [string, RegExp][] = [
    ["shop", /expected keyword=value settings/],
    ["host=db password=Hunter2 pw", /expected keyword=value settings/],
    ["password='Hunter2", /the value of password has no closing quote/],
    ["dbanme=shop", /"dbanme" is not a libpq setting/],
    ["=x", /"" is not a libpq setting/],
  ];
  for (const [text, message] of refused) {
    assert.throws(
      () => parseConnectionString(text),
      (error: Error) =>
        error instanceof UsageError && message.test(error.message) &&
        !error.message.includes("Hunter2") && !error.message.includes("pw"),
    );
  }
});

Deno.test("parseConnectionString() reads URLs into libpq's keywords and refuses other schemes", () => {
  assert.deepEqual(parseConnectionString("postgresql://"), {});
  assert.deepEqual(
    parseConnectionString(
      "postgresql://a%40b:p%3Aw%2B@[::1]:5433/my%2Fdb?sslmode=disable&application_name=a+b%20c",
    ),
    {
      user: "a@b",
      password: "p:w+",
      host: "::1",
      port: "5433",
      dbname: "my/db",
      sslmode: "disable",
      application_name: "a+b c",
    },
  );
  assert.deepEqual(
    parseConnectionString("postgres://%2Fvar%2Frun%2Fpostgresql/shop"),
    { host: "/var/run/postgresql", dbname: "shop" },
  );
  assert.deepEqual(
    parseConnectionString("postgres:///shop?host=/tmp&port=5444"),
    { dbname: "shop", host: "/tmp", port: "5444" },
  );
  for (
    const [text, scheme] of [
      ["mysql://root:pw@db/shop", "mysql://"],
      ["MySQL://db", "mysql://"],
      ["jdbc:postgresql://db/shop", "jdbc:"],
      ["sqlite:shop.db", "sqlite:"],
    ]
  ) {
    assert.throws(
      () => parseConnectionString(text),
      new RegExp(
        `^UsageError: Cannot use a ${scheme} connection string: lanecopy loads into PostgreSQL only`,
      ),
    );
  }
  assert.throws(
    () => parseConnectionString("postgres://app:Hunter2@[::1/db"),
    (error: Error) =>
      /Cannot use the database URL postgres:\/\/app:\*\*\*@\[::1\/db: it is not a valid URL/
        .test(error.message) && !error.message.includes("Hunter2"),
  );
});

Deno.test("formatConnectionString() writes what parseConnectionString() reads back", () => {
  const keyword = fc.constantFrom("host", "dbname", "user", "password");
  fc.assert(
    fc.property(fc.dictionary(keyword, fc.string()), (settings) => {
      const text = formatConnectionString(settings);
      assert.deepEqual(parseConnectionString(text), { ...settings });
    }),
    { numRuns: 500 },
  );
});

Deno.test("serviceSettings() reads one service of a pg_service.conf as libpq does", () => {
  const file = [
    "# comment",
    "[shop]",
    "  host=db  ",
    "password=a b'c\\d",
    "host=ignored",
    "",
    "[other]",
    "host=elsewhere",
    "[shop]",
    "port=1",
  ].join("\n");
  assert.deepEqual(serviceSettings(file, "shop", "f"), {
    host: "db",
    password: "a b'c\\d",
  });
  assert.deepEqual(serviceSettings(file, "other", "f"), { host: "elsewhere" });
  assert.equal(serviceSettings(file, "nope", "f"), undefined);
  assert.throws(
    () => serviceSettings("[s]\nhost\n", "s", "f"),
    /Cannot use service "s": line 2 of f is not a libpq setting/,
  );
  assert.throws(
    () => serviceSettings("[s]\nservice=t\n", "s", "f"),
    /line 2 of f is not a libpq setting/,
  );
});
