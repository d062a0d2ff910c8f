/**
 * `deno task test:citus`: runs the Citus suite (`tests/citus_*_test.ts`)
 * with `DATABASE_URL` on a Citus coordinator, and ends with the line
 * `N passed, N failed`.
 *
 * The coordinator is `LANECOPY_CITUS_URL` when it is set; else a throwaway
 * cluster (a coordinator and two workers) started here and stopped at the
 * end, also on failure and on SIGINT/SIGTERM, after installing Citus from
 * `../shared/citus` when PostgreSQL lacks it. With neither it says plainly
 * that the Citus suite did not run and exits 0; in every other case a run
 * where no test passed, or any failed or was ignored, exits non-zero.
 *
 * Usage: `deno run -A tests/_citus_run.ts [deno test args]`.
 *
 * @module
 */

import { join } from "node:path";
import {
  type CitusCluster,
  citusSetup,
  installCitus,
  startCitusCluster,
} from "./_citus.ts";
import { query } from "./_helpers.ts";

const root = join(import.meta.dirname!, "..");
const say = (text: string) => console.error(`lanecopy Citus tests: ${text}`);

const files: string[] = [];
for await (const entry of Deno.readDir(join(root, "tests"))) {
  if (entry.isFile && /^citus_.*_test\.ts$/.test(entry.name)) {
    files.push(`tests/${entry.name}`);
  }
}
files.sort();

const setup = await citusSetup();
if (setup.kind === "none") {
  say(`the Citus suite did not run: ${setup.reason}.`);
  say(
    "set LANECOPY_CITUS_URL to a Citus coordinator to run it; exiting 0 because it did not run",
  );
  console.log("the Citus suite did not run");
  Deno.exit(0);
}

let starting: Promise<CitusCluster> | undefined;
let child: Deno.ChildProcess | undefined;
let signalCode: number | undefined;

const stopCluster = () => starting?.then((cluster) => cluster.stop(), () => {});

// Listen before starting anything, so a signal during startup still stops
// the cluster. Stop is shared, so the handler and the finally below can race.
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
if (setup.kind === "url") {
  url = setup.url;
  try {
    const [{ version }] = await query(url, "select citus_version() as version");
    say(`on the coordinator LANECOPY_CITUS_URL names: ${version}`);
  } catch (error) {
    say(
      `LANECOPY_CITUS_URL is not a Citus coordinator I can reach: ${
        (error as Error).message
      }`,
    );
    console.log("0 passed, 0 failed");
    Deno.exit(1);
  }
} else {
  try {
    if (setup.install) {
      say(`installing Citus from ${setup.install}`);
      await installCitus(setup.install, setup.binDir);
    }
    starting = startCitusCluster(setup.binDir);
    const cluster = await starting;
    url = cluster.url;
    say(
      `throwaway Citus cluster: coordinator ${url}, workers ${
        cluster.workers.join(", ")
      }`,
    );
  } catch (error) {
    say((error as Error).message);
    console.log("0 passed, 0 failed");
    Deno.exit(1);
  }
}

let code = 1;
const counts = { passed: 0, failed: 0, ignored: 0 };
try {
  if (signalCode === undefined) {
    child = new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", ...files, ...Deno.args],
      cwd: root,
      env: { DATABASE_URL: url, LANECOPY_CITUS_SUITE: "1", NO_COLOR: "1" },
      stdout: "piped",
    }).spawn();
    await countSummaries(child.stdout, counts);
    code = (await child.status).code;
    const crashes = await starting?.then((cluster) => cluster.crashes());
    if (crashes?.length) {
      say(`server processes crashed during the run:\n${crashes.join("\n")}`);
    }
  }
} finally {
  await stopCluster();
}
if (signalCode !== undefined) Deno.exit(signalCode);

if (counts.passed === 0 && counts.failed === 0) say("no Citus test ran");
if (counts.ignored > 0) say(`${counts.ignored} Citus tests were ignored`);
console.log(`${counts.passed} passed, ${counts.failed} failed`);
const ok = code === 0 && counts.passed > 0 && counts.failed === 0 &&
  counts.ignored === 0;
Deno.exit(ok ? 0 : code || 1);

/**
 * Copies `stdout` to this process's stdout as it comes, and adds up deno
 * test's summary lines (`ok | 3 passed | 0 failed (2s)`, `FAILED | 2
 * passed | 1 failed | 1 ignored (5s)`).
 */
async function countSummaries(
  stdout: ReadableStream<Uint8Array>,
  into: { passed: number; failed: number; ignored: number },
): Promise<void> {
  // Colour codes, were a test to print them despite NO_COLOR.
  const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g");
  let pending = "";
  const decoder = new TextDecoder();
  const count = (line: string) => {
    const plain = line.replace(ANSI, "");
    if (!/^(ok|FAILED) \| \d+ passed/.test(plain)) return;
    for (const key of ["passed", "failed", "ignored"] as const) {
      const match = new RegExp(`(\\d+) ${key}`).exec(plain);
      if (match) into[key] += Number(match[1]);
    }
  };
  for await (const chunk of stdout) {
    await Deno.stdout.write(chunk);
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop()!;
    lines.forEach(count);
  }
  count(pending);
}
