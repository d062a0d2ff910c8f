import assert from "node:assert/strict";
import { openTarget } from "../src/mod.ts";
import { runCli } from "./_helpers.ts";

Deno.test("the embedded database serves one process at a time: a second gets exit 4 naming the holder", async () => {
  // The suite runs with DATABASE_URL set; an empty one means "embedded".
  const embedded = { DATABASE_URL: "" };
  const dataDir = await Deno.makeTempDir();
  const target = await openTarget({ db: "", dataDir });
  try {
    const busy = await runCli([
      "sql",
      "select 1 as one",
      "--data-dir",
      dataDir,
    ], { env: embedded });
    assert.equal(busy.code, 4);
    assert.match(
      busy.stderr,
      new RegExp(`lanecopy pid ${Deno.pid} is using it`),
    );
    await assert.rejects(
      openTarget({ db: "", dataDir }),
      /is using it/,
    );
  } finally {
    await target.close();
  }
  const free = await runCli(
    ["sql", "select 1 as one", "--data-dir", dataDir],
    { env: embedded },
  );
  assert.equal(free.code, 0, free.stderr);
  assert.match(free.stdout, /one/);
  await Deno.remove(dataDir, { recursive: true });
  await Deno.remove(`${dataDir}.lock`);
});
