/**
 * The library used as a stranger uses it: a script in an empty directory,
 * with no deno.json of its own and no `--config`, imports the package
 * through README's one-line import and loads rows into the embedded
 * database.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Where README's import for a clone says the clone is. */
const README_CLONE = "/path/to/lanecopy";

/** README's one-line import for a clone, pointed at this one. */
async function readmeImport(): Promise<string> {
  const readme = await Deno.readTextFile(join(ROOT, "README.md"));
  const line = readme.split("\n").find((text) =>
    text.startsWith("import ") && text.includes(`${README_CLONE}/src/mod.ts`)
  );
  assert.ok(line, `README has no import line from ${README_CLONE}/src/mod.ts`);
  return line.replace(README_CLONE, ROOT.replace(/\/$/, ""));
}

Deno.test("A script in an empty directory imports the library by README's line and loads into the embedded database", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lanecopy_stranger_" });
  try {
    const script = [
      await readmeImport(),
      "",
      'const csv = "id,name\\n1,Ada\\n2,\\"Grace, H\\"\\n";',
      "const summary = await ingest({",
      "  source: ReadableStream.from([new TextEncoder().encode(csv)]),",
      '  table: "people",',
      "  create: true,",
      "});",
      "const target = await openTarget();",
      'const { rows } = await target.query("select name from people order by id");',
      "await target.close();",
      "console.log(JSON.stringify({ rows: summary.rows, names: rows.map((r) => r.name) }));",
      "",
    ].join("\n");
    await Deno.writeTextFile(join(dir, "load.ts"), script);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "load.ts"],
      cwd: dir,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: Deno.env.get("HOME") ?? dir,
        ...(Deno.env.get("DENO_DIR")
          ? { DENO_DIR: Deno.env.get("DENO_DIR")! }
          : {}),
        NO_COLOR: "1",
      },
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, err);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(stdout)), {
      rows: 2,
      names: ["Ada", "Grace, H"],
    });
    // The rows went to the default embedded directory of the script's cwd.
    const stat = await Deno.stat(join(dir, ".lanecopy", "db"));
    assert.ok(stat.isDirectory);
    const entries = [];
    for await (const entry of Deno.readDir(dir)) entries.push(entry.name);
    assert.deepEqual(entries.sort(), [".lanecopy", "load.ts"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
