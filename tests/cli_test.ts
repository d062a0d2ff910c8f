import assert from "node:assert/strict";
import { main } from "../src/cli/main.ts";
import { summaryLine } from "../src/cli/progress.ts";
import { runCli } from "./_helpers.ts";

Deno.test("main() --help lists the commands and where rows go", async () => {
  const result = await runCli(["--help"]);
  assert.equal(result.code, 0);
  for (
    const word of ["ingest", "encode", "sql", "DATABASE_URL", ".lanecopy/db"]
  ) {
    assert.ok(result.stdout.includes(word), `help mentions ${word}`);
  }
});

Deno.test("ingest --help teaches every flag and the exit codes", async () => {
  const result = await runCli(["ingest", "--help"]);
  assert.equal(result.code, 0);
  for (
    const flag of [
      "--table",
      "--columns",
      "--no-header",
      "--delimiter",
      "--null",
      "--batch-size",
      "--db",
      "--data-dir",
      "--create",
      "--quiet",
      "--json",
    ]
  ) {
    assert.ok(result.stdout.includes(flag), `ingest --help mentions ${flag}`);
  }
  assert.match(result.stdout, /Exit codes:\n {2}0 /);
});

Deno.test("main() refuses bad command lines with exit 1 and a pointer to --help", async (t) => {
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /Cannot run "frobnicate": no such command/],
    [["ingest", "x.csv"], /Cannot ingest without --table/],
    [
      ["ingest", "x.csv", "--table", "t", "--bogus"],
      /Unknown option '--bogus'[\s\S]*lanecopy ingest --help/,
    ],
    [
      ["ingest", "x.csv", "--table", "t", "--batch-size", "0"],
      /Cannot use --batch-size 0: expected a positive whole number/,
    ],
    [
      ["ingest", "-", "--table", "t", "--no-header"],
      /Cannot ingest with --no-header without --columns/,
    ],
    [
      ["ingest", "no/such/file.csv", "--table", "t"],
      /Cannot read no\/such\/file.csv: no such file/,
    ],
    [
      ["encode", "-", "--copy-format", "binary"],
      /Cannot use --copy-format binary: expected text or csv/,
    ],
    [["encode", "-", "--delimiter", "ab"], /it must be one ASCII character/],
    [
      ["ingest", "--table", "t"],
      /expected FILE \(or - for stdin\), got none/,
    ],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), async () => {
      const result = await runCli(args, { stdin: "a\n1\n" });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, "");
    });
  }
});

Deno.test("main() resolves to 0 for --help without exiting", async () => {
  const log = console.log;
  const printed: string[] = [];
  console.log = (text: string) => printed.push(text);
  try {
    assert.equal(await main(["sql", "--help"]), 0);
  } finally {
    console.log = log;
  }
  assert.match(printed.join("\n"), /lanecopy sql "STATEMENT"/);
});

Deno.test("summaryLine() says rows, batches, seconds, rows/s and MB/s", () => {
  assert.equal(
    summaryLine({
      table: "public.orders",
      source: "orders.csv",
      sourceId: "/data/orders.csv -> public.orders",
      resumedAt: 0,
      rows: 1_000_000,
      rejected: 0,
      batches: 100,
      bytes: 150e6,
      seconds: 3,
      rowsPerSecond: 333_333.4,
      megabytesPerSecond: 50,
    }),
    "loaded 1,000,000 rows from orders.csv into public.orders in 100 batches, 3.00 s (333,333 rows/s, 50.0 MB/s)",
  );
});
