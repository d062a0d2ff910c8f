/**
 * `deno task test`: runs the suite against `DATABASE_URL`, or against a
 * throwaway cluster started here and stopped at the end (also on failure
 * and on SIGINT/SIGTERM).
 *
 * Usage: `deno run -A tests/_run.ts [deno test args]`; with no args it
 * runs `tests/` and `src/`, doc tests included.
 *
 * @module
 */

import { join } from "node:path";
import { startThrowawayCluster, type ThrowawayCluster } from "./_cluster.ts";

const root = join(import.meta.dirname!, "..");
const args = Deno.args.length > 0 ? Deno.args : ["tests/", "src/"];

let starting: Promise<ThrowawayCluster> | undefined;
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

let url = Deno.env.get("DATABASE_URL");
if (!url) {
  starting = startThrowawayCluster();
  try {
    url = (await starting).url;
  } catch (error) {
    console.error(`lanecopy tests: ${(error as Error).message}`);
    Deno.exit(1);
  }
  console.error(`lanecopy tests: throwaway PostgreSQL at ${url}`);
}

let code = 1;
try {
  if (signalCode === undefined) {
    child = new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--doc", ...args],
      cwd: root,
      env: { DATABASE_URL: url },
    }).spawn();
    code = (await child.status).code;
  }
} finally {
  await stopCluster();
}
Deno.exit(signalCode ?? code);
