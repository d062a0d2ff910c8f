/**
 * The shape of the package: folders by stage with no import cycle, a
 * library that never reaches into the CLI, small files, a small public API,
 * the WebAssembly inside the modules, and npm versions pinned once.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath as fromFileUrl, pathToFileURL } from "node:url";

const ROOT = fromFileUrl(new URL("..", import.meta.url));
const SRC = join(ROOT, "src");
/** The state machines the layout allows to stay whole, however long. */
const LONG_FILES_ALLOWED = [
  "src/codec/csv/_csv_core.ts",
  "src/codec/ndjson/_ndjson_core.ts",
];
const MAX_LINES = 500;
const MAX_PUBLIC_NAMES = 30;

/** One module of `deno info --json`. */
interface InfoModule {
  specifier: string;
  dependencies?: {
    code?: { specifier: string };
    type?: { specifier: string };
  }[];
}

/** Every `.ts` file under `dir`, as paths relative to the repository. */
async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(relative(ROOT, path));
  }
  return files.sort();
}

/**
 * The import graph of `src/` as `deno info` sees it from the given entry
 * points: static, dynamic and type-only imports alike, file to file.
 */
async function importGraph(
  entries: string[],
): Promise<Map<string, Set<string>>> {
  // deno info takes one root: a scratch module that imports every entry.
  const dir = await Deno.makeTempDir({ prefix: "lanecopy_layout_" });
  const root = join(dir, "entries.ts");
  await Deno.writeTextFile(
    root,
    entries.map((path) =>
      `import ${JSON.stringify(pathToFileURL(join(ROOT, path)).href)};\n`
    ).join(""),
  );
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root],
    cwd: ROOT,
    stderr: "inherit",
  }).output();
  await Deno.remove(dir, { recursive: true });
  assert.ok(success, `deno info of ${entries.length} modules failed`);
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    modules: InfoModule[];
  };
  const local = (specifier: string) =>
    specifier.startsWith("file://") && specifier.endsWith(".ts")
      ? relative(ROOT, fromFileUrl(specifier))
      : undefined;
  const graph = new Map<string, Set<string>>();
  for (const module of info.modules) {
    const from = local(module.specifier);
    if (from === undefined || !from.startsWith("src/")) continue;
    const targets = new Set<string>();
    for (const dependency of module.dependencies ?? []) {
      for (const end of [dependency.code, dependency.type]) {
        const to = end && local(end.specifier);
        if (to?.startsWith("src/")) targets.add(to);
      }
    }
    graph.set(from, targets);
  }
  return graph;
}

/** The first cycle found in `graph`, as a path that ends where it starts. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") {
      return [...path.slice(path.indexOf(node)), node];
    }
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

Deno.test("findCycle() finds a cycle through type-only edges and none in a tree", () => {
  const tree = new Map([["a", new Set(["b", "c"])], ["b", new Set(["c"])]]);
  assert.equal(findCycle(tree), undefined);
  const looped = new Map([
    ["a", new Set(["b"])],
    ["b", new Set(["c"])],
    ["c", new Set(["a"])],
  ]);
  assert.deepEqual(findCycle(looped), ["a", "b", "c", "a"]);
});

Deno.test("src/ has no import cycle, counting dynamic and type-only imports", async () => {
  const graph = await importGraph(await sourceFiles(SRC));
  assert.ok(graph.size > 40, `only ${graph.size} modules in the graph`);
  const cycle = findCycle(graph);
  assert.equal(cycle, undefined, `import cycle: ${cycle?.join(" -> ")}`);
});

Deno.test("The library never imports the CLI", async () => {
  const library = (await sourceFiles(SRC)).filter((path) =>
    !path.startsWith("src/cli/")
  );
  const graph = await importGraph(library);
  const offenders = [...graph].flatMap(([from, targets]) =>
    from.startsWith("src/cli/")
      ? []
      : [...targets].filter((to) => to.startsWith("src/cli/")).map((to) =>
        `${from} -> ${to}`
      )
  );
  assert.deepEqual(offenders, []);
});

Deno.test(`No file in src/ is over ${MAX_LINES} lines, but the two codec state machines and generated modules`, async () => {
  const long: string[] = [];
  for (const path of await sourceFiles(SRC)) {
    const text = await Deno.readTextFile(join(ROOT, path));
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    const generated = /^\/\/ @generated/m.test(text.slice(0, 500));
    if (
      lines > MAX_LINES && !generated && !LONG_FILES_ALLOWED.includes(path)
    ) {
      long.push(`${path}: ${lines} lines`);
    }
  }
  assert.deepEqual(long, []);
});

Deno.test(`mod.ts exports at most ${MAX_PUBLIC_NAMES} names, each with an example`, async () => {
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", "src/mod.ts"],
    cwd: ROOT,
    stderr: "inherit",
  }).output();
  assert.ok(success, "deno doc src/mod.ts failed");
  const doc = JSON.parse(new TextDecoder().decode(stdout)) as {
    nodes: Record<string, {
      symbols: {
        name: string;
        declarations: {
          jsDoc?: { tags?: { kind: string; doc?: string }[] };
        }[];
      }[];
    }>;
  };
  const symbols = Object.values(doc.nodes).flatMap((node) => node.symbols);
  assert.ok(symbols.length > 10, `only ${symbols.length} public names`);
  assert.ok(
    symbols.length <= MAX_PUBLIC_NAMES,
    `${symbols.length} public names: ${symbols.map((s) => s.name).join(", ")}`,
  );
  const names = symbols.map((symbol) => symbol.name);
  const withoutExample = symbols.filter((symbol) =>
    !symbol.declarations.some((declaration) =>
      declaration.jsDoc?.tags?.some((tag) =>
        tag.kind === "example" &&
        tag.doc?.includes('from "@lanecopy/lanecopy"')
      )
    )
  ).map((symbol) => symbol.name);
  assert.deepEqual(
    withoutExample,
    [],
    "public names without an example that imports @lanecopy/lanecopy",
  );
  for (const name of ["ingest", "openTarget", "loadStatus", "ExitCode"]) {
    assert.ok(names.includes(name), `mod.ts does not export ${name}`);
  }
});

Deno.test("No module in src/ reads a .wasm file at run time", async () => {
  const readers: string[] = [];
  for (const path of await sourceFiles(SRC)) {
    const text = await Deno.readTextFile(join(ROOT, path));
    if (/readFile(Sync)?\(/.test(text) && /\.wasm\b/.test(text)) {
      readers.push(path);
    }
  }
  assert.deepEqual(readers, []);
});

Deno.test("Every npm package src/ imports is pinned at the version deno.json pins", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(join(ROOT, "deno.json")),
  ) as { imports: Record<string, string> };
  const pinned = new Map(
    Object.values(config.imports).map((specifier) => {
      const [, name, version] = specifier.match(/^npm:(@?[^@]+)@(.+)$/)!;
      return [name, version];
    }),
  );
  const seen: string[] = [];
  const wrong: string[] = [];
  for (const path of await sourceFiles(SRC)) {
    const text = await Deno.readTextFile(join(ROOT, path));
    for (
      const [, name, version] of text.matchAll(
        /(?:from |import\(|@ts-types=)"npm:(@?[^@"]+)@([^/"]+)[^"]*"/g,
      )
    ) {
      seen.push(name);
      if (pinned.get(name) !== version) {
        wrong.push(
          `${path}: ${name}@${version}, deno.json ${pinned.get(name)}`,
        );
      }
    }
  }
  assert.ok(seen.includes("pg") && seen.includes("@electric-sql/pglite"));
  assert.deepEqual(wrong, []);
});
