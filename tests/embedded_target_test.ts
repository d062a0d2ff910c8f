import assert from "node:assert/strict";
import { openTarget } from "../src/mod.ts";
import { runEmbedded } from "./_helpers.ts";

Deno.test("the embedded database serves one process at a time: a second gets exit 4 naming the holder", async () => {
  // The suite runs with DATABASE_URL set; runEmbedded() passes an empty
  // one, which means "embedded".
  const dataDir = await Deno.makeTempDir();
  const target = await openTarget({ db: "", dataDir });
  try {
    const busy = await runEmbedded(dataDir, ["sql", "select 1 as one"]);
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
  const free = await runEmbedded(dataDir, ["sql", "select 1 as one"]);
  assert.equal(free.code, 0, free.stderr);
  assert.match(free.stdout, /one/);
  await Deno.remove(dataDir, { recursive: true });
  await Deno.remove(`${dataDir}.lock`);
});
