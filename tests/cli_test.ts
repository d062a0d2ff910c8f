import assert from "node:assert/strict";
import { parseCommandLine } from "../src/cli/args.ts";
import { ConfigError, parseConfig } from "../src/cli/config.ts";
import { count } from "../src/cli/count.ts";
import { formatTable } from "../src/cli/format_table.ts";
import { errorJson, jsonFromText, jsonValue } from "../src/cli/json_output.ts";
import { main } from "../src/cli/main.ts";
import { summaryLine } from "../src/cli/progress.ts";
import { suggest } from "../src/cli/suggest.ts";
import { VERSION } from "../src/cli/version.ts";
import { optionDifferences } from "../src/bookkeeping/source_state.ts";
import {
  DatabaseLoadError,
  InputSyntaxError,
  UsageError,
} from "../src/errors.ts";
import { REPO_ROOT, runCli } from "./_helpers.ts";

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

Deno.test("every command's --help prose fits 80 columns", async () => {
  for (const command of ["ingest", "encode", "status", "sql"]) {
    const result = await runCli([command, "--help"]);
    assert.equal(result.code, 0);
    // Example command lines are copied whole, so only they may run longer.
    const long = result.stdout.split("\n").filter((line) =>
      line.length > 80 && !/^ {2}(lanecopy|cat) /.test(line)
    );
    assert.deepEqual(long, [], `${command} --help wraps its prose`);
  }
});

Deno.test("main() refuses bad command lines with exit 1 and a pointer to --help", async (t) => {
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /Cannot run "frobnicate": no such command/],
    [["ingest", "x.csv"], /Cannot ingest without --table/],
    [
      ["ingest", "x.csv", "--table", "t", "--bogus"],
      /^lanecopy: Unknown option --bogus\nRun "lanecopy ingest --help" for the options\.\n$/,
    ],
    [
      ["ingest", "x.csv", "--tabel", "t"],
      /^lanecopy: Unknown option --tabel; did you mean --table\?\n/,
    ],
    [
      ["ingest", "-table", "people", "x.csv"],
      /^lanecopy: Unknown option -table; did you mean --table\?\n/,
    ],
    [
      ["sql", "select 1", "--dataa-dir", "d"],
      /Unknown option --dataa-dir; did you mean --data-dir\?[\s\S]*lanecopy sql --help/,
    ],
    [
      ["ingset", "x.csv"],
      /Cannot run "ingset": no such command; did you mean ingest\?/,
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
      destination: "app@db:5432/shop",
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
      dryRun: false,
    }),
    "loaded 1,000,000 rows from orders.csv into public.orders (app@db:5432/shop) in 100 batches, 3.00 s (333,333 rows/s, 50.0 MB/s)",
  );
});

Deno.test("main() with no arguments prints the help on stderr and exits 2", async () => {
  const result = await runCli([]);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /^lanecopy: stream CSV or NDJSON[\s\S]*Usage:/);
});

Deno.test("--version prints lanecopy and deno.json's version", async () => {
  const { version } = JSON.parse(
    await Deno.readTextFile(`${REPO_ROOT}deno.json`),
  );
  assert.equal(VERSION, version, "src/cli/version.ts must match deno.json");
  const result = await runCli(["--version"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `lanecopy ${version}\n`);
});

Deno.test("parseCommandLine() reads options as parseArgs does and words its refusals", async (t) => {
  const options = {
    table: { type: "string", short: "t" },
    db: { type: "string" },
    "data-dir": { type: "string" },
    "seq-column": { type: "string" },
    null: { type: "string" },
    json: { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
    verbose: { type: "boolean", short: "v" },
  } as const;
  const accepted: [string[], Record<string, unknown>, string[]][] = [
    [["a.csv", "-t", "people", "-qv"], {
      table: "people",
      quiet: true,
      verbose: true,
    }, ["a.csv"]],
    [["-tpeople"], { table: "people" }, []],
    [["--null=-table"], { null: "-table" }, []],
    [["-t-db"], { table: "-db" }, []],
    [["--", "-table"], {}, ["-table"]],
    [["-", "--json"], { json: true }, ["-"]],
  ];
  for (const [args, values, positionals] of accepted) {
    await t.step(`accepts ${args.join(" ")}`, () => {
      const parsed = parseCommandLine("ingest", args, options);
      assert.deepEqual({ ...parsed.values }, values);
      assert.deepEqual(parsed.positionals, positionals);
    });
  }
  const refused: [string[], string][] = [
    [["--tabel", "x"], "Unknown option --tabel; did you mean --table?"],
    [["--seq", "n"], "Unknown option --seq; did you mean --seq-column?"],
    [["--jsno"], "Unknown option --jsno; did you mean --json?"],
    [["--frobnicate"], "Unknown option --frobnicate"],
    [["-x"], "Unknown option -x"],
    [["-table", "people"], "Unknown option -table; did you mean --table?"],
    [
      ["-db=postgres://x"],
      "Unknown option -db=postgres://x; did you mean --db?",
    ],
    [["-data-dir", "d"], "Unknown option -data-dir; did you mean --data-dir?"],
    [["--table"], "Cannot use --table without a value: write --table VALUE"],
    [
      ["--json=yes"],
      "Cannot give --json a value: it is a switch, on when given",
    ],
    [
      ["--null", "-table"],
      'Cannot tell whether the word after --null is its value: a value that starts with "-" is written --null=-VALUE',
    ],
    [
      ["-t", "-db"],
      'Cannot tell whether the word after -t is its value: a value that starts with "-" is written -t-VALUE',
    ],
  ];
  for (const [args, message] of refused) {
    await t.step(`refuses ${args.join(" ")}`, () => {
      assert.throws(
        () => parseCommandLine("ingest", args, options),
        (error: unknown) => {
          assert.ok(error instanceof UsageError);
          assert.equal(
            error.message,
            `${message}\nRun "lanecopy ingest --help" for the options.`,
          );
          return true;
        },
      );
    });
  }
});

Deno.test("suggest() picks the nearest name, and none when nothing is near", () => {
  const names = ["table", "lane", "db", "data-dir", "batch-size", "no-header"];
  assert.equal(suggest("tabel", names), "table");
  assert.equal(suggest("batchsize", names), "batch-size");
  assert.equal(suggest("no-headers", names), "no-header");
  assert.equal(suggest("dv", names), "db");
  assert.equal(suggest("bogus", names), undefined);
  assert.equal(suggest("x", names), undefined);
});

Deno.test("count() writes counts one way: grouped digits, singular for one", () => {
  assert.deepEqual(
    [0, 1, 2, 1000, 1234567].map((n) => count(n, "row")),
    ["0 rows", "1 row", "2 rows", "1,000 rows", "1,234,567 rows"],
  );
  assert.equal(count(1, "batch", "batches"), "1 batch");
  assert.equal(count(3, "batch", "batches"), "3 batches");
});

Deno.test("formatTable() shows NULL apart from the empty string, escapes control characters and aligns wide characters", () => {
  const table = formatTable(["name", "note"], [
    ["東京", null],
    ["👍🏽 ok", ""],
    ["a\nb\tc", "NULL"],
    ["x", "bell\u0007"],
  ]);
  assert.equal(
    table,
    [
      "name    | note",
      "--------+-----------",
      "東京    | NULL",
      "👍🏽 ok   |",
      "a\\nb\\tc | NULL",
      "x       | bell\\u0007",
      "(4 rows)",
    ].join("\n"),
  );
  assert.equal(formatTable(["n"], [{ n: 1 }]), "n\n-\n1\n(1 row)");
  assert.equal(formatTable(["n"], []), "n\n-\n(0 rows)");
});

Deno.test("jsonFromText() types a value by its column type, the same for any database", async (t) => {
  const cases: [string | null, number, unknown][] = [
    ["42", 20, 42],
    ["-9007199254740991", 20, -9007199254740991],
    ["9007199254740992", 20, "9007199254740992"],
    ["-9223372036854775808", 20, "-9223372036854775808"],
    ["7", 23, 7],
    ["1.5", 701, 1.5],
    ["NaN", 701, "NaN"],
    ["-Infinity", 700, "-Infinity"],
    [
      "123456789012345678901234567890.000000001",
      1700,
      "123456789012345678901234567890.000000001",
    ],
    ["t", 16, true],
    ["f", 16, false],
    ['{"a": [1, {"b": null}]}', 3802, { a: [1, { b: null }] }],
    ['"x"', 114, "x"],
    ["2024-05-01 12:00:00.123456+02", 1184, "2024-05-01T10:00:00.123456Z"],
    ["2024-05-01 00:30:00-05:30", 1184, "2024-05-01T06:00:00Z"],
    ["2024-12-31 23:59:59.5+00", 1184, "2024-12-31T23:59:59.5Z"],
    ["infinity", 1184, "infinity"],
    ["0044-03-15 12:00:00+00 BC", 1184, "0044-03-15 12:00:00+00 BC"],
    ["2024-05-01 12:00:00.25", 1114, "2024-05-01T12:00:00.25"],
    ["2024-05-01", 1082, "2024-05-01"],
    ["{1,NULL,3}", 1007, [1, null, 3]],
    ["{{1,2},{3,4}}", 1016, [[1, 2], [3, 4]]],
    ['{"a,b","NULL",NULL,"q\\"q"}', 1009, ["a,b", "NULL", null, 'q"q']],
    ["{}", 1009, []],
    ["[0:1]={1,2}", 1007, "[0:1]={1,2}"],
    ["\\x01ff", 17, "\\x01ff"],
    ["1 day 02:00:00", 1186, "1 day 02:00:00"],
    [null, 20, null],
    ["", 25, ""],
  ];
  for (const [text, typeId, expected] of cases) {
    await t.step(`${text} (type ${typeId})`, () => {
      assert.deepEqual(jsonFromText(text, typeId), expected);
    });
  }
});

Deno.test("jsonValue() gives JavaScript values the same types", () => {
  assert.deepEqual(
    jsonValue({
      small: 5n,
      big: 9007199254740993n,
      at: new Date("2024-05-01T10:00:00Z"),
      list: [1, undefined, Infinity],
      skipped: undefined,
    }),
    {
      small: 5,
      big: "9007199254740993",
      at: "2024-05-01T10:00:00.000Z",
      list: [1, null, "Infinity"],
    },
  );
});

Deno.test("errorJson() carries the exit code and, when known, where the problem is", async () => {
  const syntax = new InputSyntaxError("Cannot parse record: bad", {
    source: "a.csv",
    line: 3,
    column: 7,
    offset: 20,
  });
  assert.deepEqual(errorJson(syntax), {
    error: {
      message: "a.csv:3:7: Cannot parse record: bad",
      code: 2,
      file: "a.csv",
      line: 3,
      column: 7,
    },
  });
  const rejected = new DatabaseLoadError(
    { message: 'invalid input syntax for type integer: "x"', code: "22P02" },
    { source: "a.csv", line: 4, columnName: "qty" },
  );
  assert.deepEqual(errorJson(rejected).error, {
    message: rejected.message,
    code: 2,
    file: "a.csv",
    line: 4,
    columnName: "qty",
    sqlstate: "22P02",
  });
  const config = await parseConfig('{\n  "batch_size": "x"\n}', "load.json")
    .catch((error) => error);
  assert.ok(config instanceof ConfigError);
  assert.deepEqual(
    [errorJson(config).error.file, errorJson(config).error.line],
    ["load.json", 2],
  );
  const secret = new Error("Cannot connect to postgres://app:pw@db/shop");
  assert.deepEqual(
    errorJson(secret, ["postgres://app:pw@db/shop"]).error.code,
    1,
  );
  assert.doesNotMatch(
    String(errorJson(secret, ["postgres://app:pw@db/shop"]).error.message),
    /pw/,
  );
  const deno = Object.assign(new Error("denied"), { code: "EPERM" });
  assert.deepEqual(errorJson(deno), { error: { message: "denied", code: 1 } });
});

Deno.test("A resume with other options names them as flags (--null, not an internal name)", () => {
  const stored = {
    target: "public.t",
    format: "csv" as const,
    delimiter: ",",
    quote: '"',
    nullString: null,
    header: true,
    columns: ["a"],
    lane: null,
    encoding: "utf-8" as const,
  };
  const now = { ...stored, nullString: "NA", header: false, lane: "region" };
  const differences = optionDifferences(stored, now, false);
  assert.deepEqual(differences, [
    '--null was not given and is now "NA"',
    "--no-header was not given and is now given",
    '--lane was not given and is now "region"',
  ]);
  assert.ok(
    differences.every((text) => !/nullString|null was null/.test(text)),
  );
});
