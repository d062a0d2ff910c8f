/**
 * `deno task test:pg18`: the core server tests (ingest, lanes,
 * exactly-once across crashes, rejects, server faults) against a
 * throwaway PostgreSQL 18 cluster ({@linkcode startPg18Cluster}), stopped
 * at the end (also on failure and on SIGINT/SIGTERM). A `DATABASE_URL` or
 * `PG_BIN` of the caller is ignored: the tests get the 18 server's, so a
 * test that starts its own cluster starts an 18 one too.
 *
 * Usage: `deno run -A tests/_pg18_run.ts [deno test args]`; with no args it
 * runs {@linkcode CORE_TESTS}. It ends with the line "N passed, N failed"
 * (summed over `deno test`'s summary lines, as `.ci/run` sums them) and
 * fails when a test failed, `deno test` failed, or no test ran.
 *
 * @module
 */

import { join } from "node:path";
import type { ThrowawayCluster } from "./_cluster.ts";
import { startPg18Cluster } from "./_pg18.ts";
import { query } from "./_helpers.ts";
import { countSummaries, SuiteRun } from "./_suite_run.ts";

const root = join(import.meta.dirname!, "..");

/** The server test files run against PostgreSQL 18. */
const CORE_TESTS: readonly string[] = [
  "tests/ingest_test.ts",
  "tests/lanes_test.ts",
  "tests/crash_resume_test.ts",
  "tests/resume_test.ts",
  "tests/reject_file_test.ts",
  "tests/malformed_rejects_test.ts",
  "tests/server_faults_test.ts",
  "tests/upsert_test.ts",
  "tests/write_modes_test.ts",
  "tests/binary_copy_test.ts",
  "tests/binary_encoding_test.ts",
];

/** How long to wait for the output of `deno test` once it has exited. */
const DRAIN_MS = 5_000;

const args = Deno.args.length > 0 ? Deno.args : CORE_TESTS;
const began = performance.now();

const suite = new SuiteRun<ThrowawayCluster>();

let url: string;
try {
  url = (await suite.start(startPg18Cluster)).url;
  const [{ server_version }] = await query(url, "SHOW server_version");
  if (!String(server_version).startsWith("18.")) {
    throw new Error(`The cluster runs PostgreSQL ${server_version}, not 18`);
  }
  console.error(
    `lanecopy tests: throwaway PostgreSQL ${server_version} at ${url}`,
  );
} catch (error) {
  console.error(`lanecopy tests: ${(error as Error).message}`);
  await suite.stop();
  Deno.exit(1);
}

const counts = { passed: 0, failed: 0, ignored: 0 };
let code = 1;
try {
  if (suite.signalCode === undefined) {
    const child = suite.child = new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", ...args],
      cwd: root,
      env: {
        DATABASE_URL: url,
        PG_BIN: Deno.env.get("PG_BIN")!,
        TMPDIR: suite.tempDir(),
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pumps = [
      countSummaries(child.stdout, Deno.stdout, counts),
      countSummaries(child.stderr, Deno.stderr, counts),
    ];
    code = (await child.status).code;
    // A process the tests left behind may hold the pipes open: give the
    // output a moment, then stop reading.
    await within(Promise.all(pumps), DRAIN_MS);
  }
} finally {
  await suite.stop();
}
if (suite.signalCode !== undefined) Deno.exit(suite.signalCode);

const seconds = ((performance.now() - began) / 1000).toFixed(1);
console.error(`lanecopy tests: PostgreSQL 18 run took ${seconds}s`);
let status = 0;
if (code !== 0) {
  console.error(`lanecopy tests: deno test exited ${code}`);
  status = 1;
}
if (counts.failed > 0) {
  console.error(`lanecopy tests: ${counts.failed} failed`);
  status = 1;
} else if (counts.passed === 0) {
  console.error("lanecopy tests: no test ran");
  status = 1;
}
console.log(`${counts.passed} passed, ${counts.failed} failed`);
Deno.exit(status);

async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
}
