/**
 * Where WebAssembly cannot run, the decode stage uses the TypeScript codec:
 * the same rows, and one notice on stderr. Child processes decode CSV and
 * NDJSON with the default codec: under V8's `--jitless` (which has no
 * `WebAssembly` at all), with a `WebAssembly.Module` that refuses to
 * compile, and with a `WebAssembly.Instance` that fails; the same child
 * with WebAssembly intact is the control.
 *
 * @module
 */

import assert from "node:assert/strict";

const DECODE_STREAM = new URL("../src/codec/decode_stream.ts", import.meta.url)
  .href;

/**
 * The child: breaks WebAssembly as its first argument says, then decodes a
 * CSV and an NDJSON input twice each (with codec `ts` when the second
 * argument says so, else the default), tries a bad option, resolves the
 * codec, and prints what it saw as JSON.
 */
const CHILD = `
const [breakage, codecArg] = Deno.args;
if (breakage === "compile") {
  WebAssembly.Module = class {
    constructor() {
      throw new WebAssembly.CompileError("refused here");
    }
  };
} else if (breakage === "instantiate") {
  WebAssembly.Instance = class {
    constructor() {
      throw new RangeError("out of memory here");
    }
  };
}
const { CsvDecodeStream, resolveCodec } = await import(${
  JSON.stringify(DECODE_STREAM)
});

const codec = codecArg === "ts" ? "ts" : undefined;
async function decode(options, text) {
  const input = ReadableStream.from([new TextEncoder().encode(text)]);
  const blocks = await Array.fromAsync(
    input.pipeThrough(new CsvDecodeStream({ ...options, codec })),
  );
  return blocks.map((block) => new TextDecoder().decode(block.data)).join("");
}
let badOption = "none";
try {
  new CsvDecodeStream({ delimiter: '"', codec });
} catch (error) {
  badOption = error.name;
}
const rows = [];
for (let i = 0; i < 2; i++) {
  rows.push(await decode({ laneColumn: "lane" }, 'lane,note\\neu,"a ""b"""\\nus,\\n'));
  rows.push(await decode({ format: "ndjson", columns: ["a", "b"] }, '{"b": [1], "a": "x"}\\n'));
}
console.log(JSON.stringify({ rows, badOption, resolved: resolveCodec(codec) }));
`;

interface ChildRun {
  code: number;
  stdout: { rows: string[]; badOption: string; resolved: string };
  stderr: string;
}

async function runChild(
  options: { v8Flags?: string[]; breakage?: string; codec?: string },
): Promise<ChildRun> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      ...(options.v8Flags ?? []).map((flag) => `--v8-flags=${flag}`),
      CHILD,
      options.breakage ?? "none",
      options.codec ?? "default",
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  const stdout = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, `the child failed:\n${stderr}`);
  return { code: output.code, stdout: JSON.parse(stdout), stderr };
}

const ROWS = [
  'eu\ta "b"\nus\t\\N\n',
  "x\t[1]\n",
  'eu\ta "b"\nus\t\\N\n',
  "x\t[1]\n",
];

/** Asserts that stderr is exactly one notice, with `reason` in it. */
function assertOneNotice(stderr: string, reason: string): void {
  const lines = stderr.split("\n").filter((line) => line !== "");
  assert.equal(lines.length, 1, `expected one notice, got:\n${stderr}`);
  assert.equal(
    lines[0],
    `lanecopy: WebAssembly codec unavailable (${reason}); using the TypeScript codec`,
  );
}

Deno.test("CsvDecodeStream() decodes with the TypeScript codec, after one notice, in a runtime without WebAssembly", async () => {
  const run = await runChild({ v8Flags: ["--jitless"] });
  assert.deepEqual(run.stdout.rows, ROWS);
  assert.equal(run.stdout.resolved, "ts");
  assert.equal(run.stdout.badOption, "RangeError");
  assertOneNotice(
    run.stderr,
    "cannot compile the CSV codec: WebAssembly is not defined",
  );
});

Deno.test("CsvDecodeStream() falls back, with one notice, when the module does not compile", async () => {
  const run = await runChild({ breakage: "compile" });
  assert.deepEqual(run.stdout.rows, ROWS);
  assert.equal(run.stdout.resolved, "ts");
  assertOneNotice(run.stderr, "cannot compile the CSV codec: refused here");
});

Deno.test("CsvDecodeStream() falls back, with one notice, when the module cannot be instantiated", async () => {
  const run = await runChild({ breakage: "instantiate" });
  assert.deepEqual(run.stdout.rows, ROWS);
  assert.equal(run.stdout.resolved, "ts");
  assertOneNotice(
    run.stderr,
    "cannot instantiate the CSV codec: out of memory here",
  );
});

Deno.test("CsvDecodeStream() with codec ts says nothing in a runtime without WebAssembly", async () => {
  const run = await runChild({ v8Flags: ["--jitless"], codec: "ts" });
  assert.deepEqual(run.stdout.rows, ROWS);
  assert.equal(run.stdout.resolved, "ts");
  assert.equal(run.stderr, "");
});

Deno.test("CsvDecodeStream() uses WebAssembly, with no notice, where it runs", async () => {
  const run = await runChild({});
  assert.deepEqual(run.stdout.rows, ROWS);
  assert.equal(run.stdout.resolved, "wasm");
  assert.equal(run.stdout.badOption, "RangeError");
  assert.equal(run.stderr, "");
});
