import { scratchLoad } from "./_helpers.ts";
import { assertOneRunPerSource, writeRecords } from "./_loader.ts";
import {
  assertNoPreparedTransactions,
  citusTest,
  createDistributedRecords,
} from "./_citus.ts";

citusTest(
  "one run per source on Citus: a second run is refused naming the holder; with --wait it waits, then resumes where the holder stopped",
  async () => {
    const { url, table, meta } = scratchLoad("citus_busy");
    const n = 600;
    await createDistributedRecords(url, table);
    const path = await writeRecords(1, n);
    await assertOneRunPerSource(url, path, table, meta, n);
    await assertNoPreparedTransactions(url);
    await Deno.remove(path);
  },
);
