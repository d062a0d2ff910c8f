/**
 * `deno task test`: runs the suite against `DATABASE_URL`, or against a
 * throwaway cluster started here and stopped at the end (also on failure
 * and on SIGINT/SIGTERM).
 *
 * @module
 */

import { startThrowawayCluster, type ThrowawayCluster } from "./_cluster.ts";

const root = new URL("..", import.meta.url).pathname;
const args = Deno.args.length > 0 ? Deno.args : ["tests/", "src/"];

let cluster: ThrowawayCluster | undefined;
let url = Deno.env.get("DATABASE_URL");
if (!url) {
  cluster = await startThrowawayCluster();
  url = cluster.url;
  console.error(`lanecopy tests: throwaway PostgreSQL at ${url}`);
}

const child = new Deno.Command(Deno.execPath(), {
  args: ["test", "-A", "--doc", ...args],
  cwd: root,
  env: { DATABASE_URL: url },
  stdin: "null",
}).spawn();

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.addSignalListener(signal, async () => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
    await cluster?.stop();
    Deno.exit(code);
  });
}

let status: Deno.CommandStatus;
try {
  status = await child.status;
} finally {
  await cluster?.stop();
}
Deno.exit(status.code);
