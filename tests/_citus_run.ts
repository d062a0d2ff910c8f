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
import { countSummaries, SuiteRun } from "./_suite_run.ts";

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

const suite = new SuiteRun<CitusCluster>();

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
    const cluster = await suite.start(() => startCitusCluster(setup.binDir));
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
  if (suite.signalCode === undefined) {
    const child = suite.child = new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", ...files, ...Deno.args],
      cwd: root,
      env: {
        DATABASE_URL: url,
        LANECOPY_CITUS_SUITE: "1",
        NO_COLOR: "1",
        TMPDIR: suite.tempDir(),
      },
      stdout: "piped",
    }).spawn();
    await countSummaries(child.stdout, Deno.stdout, counts);
    code = (await child.status).code;
    const crashes = await suite.starting?.then((cluster) => cluster.crashes());
    if (crashes?.length) {
      say(`server processes crashed during the run:\n${crashes.join("\n")}`);
    }
  }
} finally {
  await suite.stop();
}
if (suite.signalCode !== undefined) Deno.exit(suite.signalCode);

if (counts.passed === 0 && counts.failed === 0) say("no Citus test ran");
if (counts.ignored > 0) say(`${counts.ignored} Citus tests were ignored`);
console.log(`${counts.passed} passed, ${counts.failed} failed`);
const ok = code === 0 && counts.passed > 0 && counts.failed === 0 &&
  counts.ignored === 0;
Deno.exit(ok ? 0 : code || 1);
