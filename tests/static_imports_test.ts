import assert from "node:assert/strict";

const root = new URL("..", import.meta.url);

/** One module of `deno info --json`. */
interface InfoModule {
  specifier: string;
  dependencies?: {
    code?: { specifier: string };
    isDynamic?: boolean;
  }[];
}

/**
 * The npm packages a module loads by static imports alone, however deep:
 * what it costs to load before it runs a line (dynamic imports, loaded
 * where they are used, are left out).
 */
async function staticNpmPackages(path: string): Promise<Set<string>> {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", path],
    cwd: root,
    stderr: "inherit",
  }).output();
  assert.ok(success, `deno info ${path} failed`);
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    roots: string[];
    modules: InfoModule[];
    redirects: Record<string, string>;
  };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const resolve = (specifier: string) => info.redirects[specifier] ?? specifier;
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = info.roots.map(resolve);
  while (pending.length > 0) {
    const specifier = pending.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    const npm = specifier.match(/^npm:\/?((?:@[^/]+\/)?[^@/]+)/);
    if (npm) packages.add(npm[1]);
    for (const dependency of modules.get(specifier)?.dependencies ?? []) {
      if (dependency.code && !dependency.isDynamic) {
        pending.push(resolve(dependency.code.specifier));
      }
    }
  }
  return packages;
}

/** Packages an ingest into a server has no use for. */
const HEAVY = [
  "ajv",
  "jsonc-parser",
  "cli-progress",
  "@electric-sql/pglite",
  "vega",
  "vega-lite",
  "assemblyscript",
  "csv-parse",
  "csv-stringify",
];

Deno.test("The command loads no config validator, progress bar, PGlite or chart library before it needs one (its memory is the load's)", async () => {
  const packages = await staticNpmPackages("src/cli/main.ts");
  assert.deepEqual(HEAVY.filter((name) => packages.has(name)), []);
});

Deno.test("The decode worker loads no npm package at all", async () => {
  assert.deepEqual(
    [...await staticNpmPackages("src/batch/batch_worker.ts")],
    [],
  );
});
