/**
 * `deno task test`: runs the suite against `DATABASE_URL`, or against a
 * throwaway cluster started here and stopped at the end (also on failure
 * and on SIGINT/SIGTERM).
 *
 * Usage: `deno run -A tests/_run.ts [deno test args]`; with no args it
 * runs `tests/` and `src/`, doc tests included.
 *
 * `deno run -A tests/_run.ts --unit` (`deno task test:unit`) is the fast
 * lane: the tests that need no PostgreSQL ({@linkcode UNIT_TESTS}: codecs,
 * rechunk, splice, config, CLI arguments, the layout), with no server and
 * no `DATABASE_URL`, so one that wanted a server fails instead of passing.
 *
 * @module
 */

import { join } from "node:path";
import { startThrowawayCluster, type ThrowawayCluster } from "./_cluster.ts";
import { SuiteRun } from "./_suite_run.ts";

const root = join(import.meta.dirname!, "..");

/** The test files that need no server: `deno task test:unit` runs these. */
const UNIT_TESTS: readonly string[] = [
  "tests/binary_codec_test.ts",
  "tests/cli_test.ts",
  "tests/column_map_test.ts",
  "tests/config_test.ts",
  "tests/connection_string_test.ts",
  "tests/csv_codec_test.ts",
  "tests/infer_column_types_test.ts",
  "tests/infer_source_columns_test.ts",
  "tests/input_format_test.ts",
  "tests/keep_mask_codec_test.ts",
  "tests/layout_test.ts",
  "tests/ndjson_codec_test.ts",
  "tests/parallel_writers_test.ts",
  "tests/prefix_check_stream_test.ts",
  "tests/rechunk_stream_test.ts",
  "tests/seq_splice_test.ts",
  "tests/shard_routing_test.ts",
  "tests/static_imports_test.ts",
  "tests/wasm_csv_codec_test.ts",
  "tests/wasm_fallback_test.ts",
  "tests/worker_batch_pipeline_test.ts",
  "tests/writer_split_test.ts",
];

if (Deno.args[0] === "--unit") {
  const env = Deno.env.toObject();
  delete env.DATABASE_URL;
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", ...UNIT_TESTS, ...Deno.args.slice(1)],
    cwd: root,
    clearEnv: true,
    env,
  }).spawn().status;
  Deno.exit(code);
}

// The Citus suite (tests/citus_*) needs a Citus cluster: `deno task test:citus`.
const args = Deno.args.length > 0
  ? Deno.args
  : ["--ignore=tests/citus_*", "tests/", "src/"];

const suite = new SuiteRun<ThrowawayCluster>();

let url = Deno.env.get("DATABASE_URL");
if (!url) {
  try {
    url = (await suite.start(startThrowawayCluster)).url;
  } catch (error) {
    console.error(`lanecopy tests: ${(error as Error).message}`);
    Deno.exit(1);
  }
  console.error(`lanecopy tests: throwaway PostgreSQL at ${url}`);
}

let code = 1;
try {
  if (suite.signalCode === undefined) {
    const child = suite.child = new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--doc", ...args],
      cwd: root,
      env: { DATABASE_URL: url, TMPDIR: suite.tempDir() },
    }).spawn();
    code = (await child.status).code;
  }
} finally {
  await suite.stop();
}
Deno.exit(suite.signalCode ?? code);
