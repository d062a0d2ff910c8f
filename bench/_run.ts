/**
 * `deno task bench` runs `deno bench`; `deno task bench:compare` runs
 * `bench/compare.ts` and `deno task bench:overhead` `bench/overhead.ts`; all
 * against `DATABASE_URL`, or against a throwaway
 * PostgreSQL started here with the server's default durability (fsync on,
 * as on a real server) and stopped at the end.
 *
 * ```sh
 * deno run -A bench/_run.ts [deno bench args]
 * deno run -A bench/_run.ts compare [compare.ts args]
 * deno run -A bench/_run.ts overhead [overhead.ts args]
 * ```
 *
 * @module
 */

import {
  startThrowawayCluster,
  type ThrowawayCluster,
} from "../tests/_cluster.ts";

const root = new URL("..", import.meta.url).pathname;
const SCRIPTS: Record<string, string> = {
  compare: "bench/compare.ts",
  overhead: "bench/overhead.ts",
};
const script = SCRIPTS[Deno.args[0]];
const command = script
  ? ["run", "-A", script, ...Deno.args.slice(1)]
  : ["bench", "-A", ...(Deno.args.length > 0 ? Deno.args : ["bench/"])];

let cluster: ThrowawayCluster | undefined;
let url = Deno.env.get("DATABASE_URL");
if (!url) {
  cluster = await startThrowawayCluster({ durable: true });
  url = cluster.url;
  console.error(`lanecopy bench: throwaway PostgreSQL (fsync on) at ${url}`);
}

const child = new Deno.Command(Deno.execPath(), {
  args: command,
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
