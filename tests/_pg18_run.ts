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

let starting: Promise<ThrowawayCluster> | undefined;
let child: Deno.ChildProcess | undefined;
let signalCode: number | undefined;

const stopCluster = () => starting?.then((cluster) => cluster.stop(), () => {});

// Listen before starting anything, so a signal during startup (the npm
// install included) still stops the cluster.
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.addSignalListener(signal, async () => {
    signalCode = code;
    try {
      child?.kill(signal);
    } catch { /* already gone */ }
    await stopCluster();
    Deno.exit(code);
  });
}

let url: string;
try {
  starting = startPg18Cluster();
  url = (await starting).url;
  const [{ server_version }] = await query(url, "SHOW server_version");
  if (!String(server_version).startsWith("18.")) {
    throw new Error(`The cluster runs PostgreSQL ${server_version}, not 18`);
  }
  console.error(
    `lanecopy tests: throwaway PostgreSQL ${server_version} at ${url}`,
  );
} catch (error) {
  console.error(`lanecopy tests: ${(error as Error).message}`);
  await stopCluster();
  Deno.exit(1);
}

const counts = { passed: 0, failed: 0 };
let code = 1;
try {
  if (signalCode === undefined) {
    child = new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", ...args],
      cwd: root,
      env: { DATABASE_URL: url, PG_BIN: Deno.env.get("PG_BIN")! },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pumps = [
      tee(child.stdout, Deno.stdout, counts),
      tee(child.stderr, Deno.stderr, counts),
    ];
    code = (await child.status).code;
    // A process the tests left behind may hold the pipes open: give the
    // output a moment, then stop reading.
    await within(Promise.all(pumps), DRAIN_MS);
  }
} finally {
  await stopCluster();
}
if (signalCode !== undefined) Deno.exit(signalCode);

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

/**
 * Copies `from` to `to` as it comes and adds up `deno test`'s summary
 * lines, such as `ok | 12 passed (3 steps) | 0 failed (2s)` or
 * `FAILED | 10 passed | 2 failed | 1 ignored (5s)`.
 */
async function tee(
  from: ReadableStream<Uint8Array>,
  to: { write(bytes: Uint8Array): Promise<number> },
  totals: { passed: number; failed: number },
): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  const count = (line: string) => {
    // deno-lint-ignore no-control-regex
    const plain = line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
    const summary = /^(?:ok|FAILED) \| (\d+) passed.*?\| (\d+) failed/.exec(
      plain,
    );
    if (summary) {
      totals.passed += Number(summary[1]);
      totals.failed += Number(summary[2]);
    }
  };
  for await (const chunk of from) {
    await writeAll(to, chunk);
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop()!;
    lines.forEach(count);
  }
  count(pending + decoder.decode());
}

async function writeAll(
  to: { write(bytes: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await to.write(bytes.subarray(written));
  }
}

async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
}
