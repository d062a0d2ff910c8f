/**
 * `deno task compile`: builds `dist/lanecopy`, one self-contained
 * executable file: a short `sh` header followed by a gzipped tar of the
 * Deno runtime that built it, lanecopy's `src/` and `schemas/`, and the npm
 * packages the command loads (PGlite and its database files among them),
 * pinned by a lockfile cut from `deno.lock` down to what the command uses.
 *
 * On its first run the executable unpacks itself into
 * `${LANECOPY_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/lanecopy}/ID` (ID: a
 * hash of the payload, so versions live side by side, and a half-done
 * unpack is never used), then runs the command there, offline, with no
 * `deno.json` of the caller's directory in the way. It needs `sh`, `tail`,
 * `tar` and `gzip`; not Deno, not the clone.
 *
 * `deno compile` would make the same kind of file, but it downloads its
 * runtime (`denort`) from dl.deno.land at build time; this build needs
 * only the Deno that runs it and the npm registry (or the npm packages
 * already in Deno's cache).
 *
 * ```sh
 * deno run -A src/cli/build_executable.ts [--output dist/lanecopy]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { count } from "./count.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The modules the command starts from: the CLI and its decode worker. */
const ENTRY_POINTS = ["src/cli/main.ts", "src/batch/batch_worker.ts"];
/** V8 flags the command runs with (as the `deno task` commands do). */
const V8_FLAGS = "--max-semi-space-size=1";

/** A Deno lockfile (version 5), as far as this build reads it. */
interface Lockfile {
  version: string;
  specifiers: Record<string, string>;
  npm: Record<string, {
    integrity?: string;
    dependencies?: string[];
    optionalDependencies?: string[];
  }>;
}

/**
 * The part of `lock` that the given npm specifiers need: their resolutions
 * and every package they depend on, however deep.
 *
 * @param lock The project's lockfile.
 * @param specifiers `npm:name@version` specifiers the code imports.
 * @returns A lockfile with only those.
 *
 * @example Keep a package and its dependency, drop the rest
 * ```ts
 * import { cutLockfile } from "./build_executable.ts";
 * import assert from "node:assert/strict";
 *
 * const lock = {
 *   version: "5",
 *   specifiers: { "npm:a@1.0.0": "1.0.0", "npm:z@2.0.0": "2.0.0" },
 *   npm: {
 *     "a@1.0.0": { integrity: "x", dependencies: ["b"] },
 *     "b@3.1.0": { integrity: "y" },
 *     "z@2.0.0": { integrity: "z" },
 *   },
 * };
 * assert.deepEqual(cutLockfile(lock, ["npm:a@1.0.0"]), {
 *   version: "5",
 *   specifiers: { "npm:a@1.0.0": "1.0.0" },
 *   npm: { "a@1.0.0": { integrity: "x", dependencies: ["b"] }, "b@3.1.0": { integrity: "y" } },
 * });
 * ```
 */
export function cutLockfile(lock: Lockfile, specifiers: string[]): Lockfile {
  const keyOf = (name: string, version: string) => `${name}@${version}`;
  const byName = new Map<string, string[]>();
  for (const key of Object.keys(lock.npm)) {
    const name = key.slice(0, key.indexOf("@", 1));
    byName.set(name, [...byName.get(name) ?? [], key]);
  }
  const resolveDependency = (dependency: string): string => {
    if (dependency in lock.npm) return dependency;
    const keys = byName.get(dependency) ?? [];
    if (keys.length !== 1) {
      throw new Error(
        `Cannot resolve ${dependency} from deno.lock: ${
          count(keys.length, "version")
        }`,
      );
    }
    return keys[0];
  };
  const cut: Lockfile = { version: lock.version, specifiers: {}, npm: {} };
  const pending: string[] = [];
  for (const specifier of specifiers) {
    const version = lock.specifiers[specifier];
    if (version === undefined) {
      throw new Error(
        `deno.lock has no ${specifier}: run \`deno install\` to update it`,
      );
    }
    cut.specifiers[specifier] = version;
    const name = specifier.slice(4, specifier.indexOf("@", 5));
    pending.push(keyOf(name, version));
  }
  while (pending.length > 0) {
    const key = pending.pop()!;
    if (key in cut.npm) continue;
    const entry = lock.npm[key];
    if (entry === undefined) throw new Error(`deno.lock has no ${key}`);
    cut.npm[key] = entry;
    const dependencies = [
      ...entry.dependencies ?? [],
      ...entry.optionalDependencies ?? [],
    ];
    for (const dependency of dependencies) {
      pending.push(resolveDependency(dependency));
    }
  }
  cut.npm = Object.fromEntries(
    Object.entries(cut.npm).sort(([a], [b]) => a.localeCompare(b)),
  );
  return cut;
}

/**
 * The `sh` header of the executable: unpack once, then run the command.
 *
 * @param id The payload's hash: where it unpacks.
 * @param payloadBytes The payload's size: it is the file's last bytes.
 * @returns The header, ending in a newline.
 *
 * @example The header names its unpack directory and runs the command offline
 * ```ts
 * import { executableHeader } from "./build_executable.ts";
 * import assert from "node:assert/strict";
 *
 * const header = executableHeader("0123abcd", 42);
 * assert.ok(header.startsWith("#!/bin/sh\n"));
 * assert.match(header, /root="\$home\/0123abcd"/);
 * assert.match(header, /tail -c 42 "\$0"/);
 * assert.match(header, /--cached-only/);
 * ```
 */
export function executableHeader(id: string, payloadBytes: number): string {
  return `#!/bin/sh
# lanecopy, one executable: this header, then a gzipped tar of the Deno
# runtime, lanecopy's code and the npm packages it loads. The first run
# unpacks it (about 140 MB) into the directory below; later runs start there.
set -e
home="\${LANECOPY_HOME:-\${XDG_CACHE_HOME:-$HOME/.cache}/lanecopy}"
root="$home/${id}"
if [ ! -x "$root/deno" ]; then
  mkdir -p "$home"
  unpacking=$(mktemp -d "$home/.unpacking.XXXXXX")
  if ! tail -c ${payloadBytes} "$0" | tar -xzf - -C "$unpacking"; then
    rm -rf "$unpacking"
    echo "lanecopy: cannot unpack into $home (set LANECOPY_HOME to a writable directory)" >&2
    exit 1
  fi
  # Another run may have unpacked it meanwhile: keep the first.
  mv -T "$unpacking" "$root" 2>/dev/null || rm -rf "$unpacking"
fi
DENO_DIR="$root/deno_dir" DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1 exec "$root/deno" run -A \\
  --no-config --lock="$root/app/deno.lock" --frozen --cached-only --quiet \\
  --v8-flags=${V8_FLAGS} "$root/app/src/cli/main.ts" "$@"
exit 1
`;
}

/** Runs a command, failing with its output when it fails. */
async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
  }).output();
  const text = new TextDecoder();
  if (code !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} failed (exit ${code}):\n${
        text.decode(stderr)
      }`,
    );
  }
  return text.decode(stdout);
}

/** Copies `from` into `to`, leaving out test files. */
async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory) await copyTree(source, target);
    else if (
      !entry.name.endsWith("_test.ts") &&
      source !== fileURLToPath(import.meta.url)
    ) {
      await Deno.copyFile(source, target);
    }
  }
}

/** Every `npm:` specifier the modules under `dir` import (or type by). */
async function npmSpecifiers(dir: string): Promise<Set<string>> {
  const found = new Set<string>();
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      for (const specifier of await npmSpecifiers(path)) found.add(specifier);
    } else if (entry.name.endsWith(".ts")) {
      const text = await Deno.readTextFile(path);
      for (
        const [, name, version] of text.matchAll(
          /(?:from |import\(|@ts-types=)"npm:(@?[^@"]+)@([^/"]+)[^"]*"/g,
        )
      ) {
        found.add(`npm:${name}@${version}`);
      }
    }
  }
  return found;
}

/**
 * Builds the executable at `output`.
 *
 * @param output Where to write it.
 * @returns Its size in bytes.
 */
export async function buildExecutable(output: string): Promise<number> {
  const stage = await Deno.makeTempDir({ prefix: "lanecopy_executable_" });
  try {
    const app = join(stage, "app");
    await copyTree(join(ROOT, "src"), join(app, "src"));
    await copyTree(join(ROOT, "schemas"), join(app, "schemas"));
    const lock = JSON.parse(
      await Deno.readTextFile(join(ROOT, "deno.lock")),
    ) as Lockfile;
    const specifiers = [...await npmSpecifiers(join(app, "src"))].sort();
    await Deno.writeTextFile(
      join(app, "deno.lock"),
      JSON.stringify(cutLockfile(lock, specifiers), null, 2) + "\n",
    );
    // Only what the command loads, at the versions deno.lock pins.
    await run(Deno.execPath(), [
      "cache",
      "--no-config",
      `--lock=${join(app, "deno.lock")}`,
      "--frozen",
      "--quiet",
      ...ENTRY_POINTS.map((entry) => join(app, entry)),
    ], {
      env: { ...Deno.env.toObject(), DENO_DIR: join(stage, "deno_dir") },
    });
    await Deno.copyFile(Deno.execPath(), join(stage, "deno"));
    await Deno.chmod(join(stage, "deno"), 0o755);
    const payload = join(stage, "payload.tar.gz");
    await run("tar", ["-czf", payload, "-C", stage, "deno", "app", "deno_dir"]);
    const bytes = await Deno.readFile(payload);
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", bytes),
    );
    const id = [...digest.slice(0, 8)].map((byte) =>
      byte.toString(16).padStart(2, "0")
    ).join("");
    const header = new TextEncoder().encode(
      executableHeader(id, bytes.length),
    );
    const executable = new Uint8Array(header.length + bytes.length);
    executable.set(header);
    executable.set(bytes, header.length);
    await Deno.mkdir(dirname(output), { recursive: true });
    await Deno.writeFile(output, executable, { mode: 0o755 });
    await Deno.chmod(output, 0o755);
    return executable.length;
  } finally {
    await Deno.remove(stage, { recursive: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { output: { type: "string", default: "dist/lanecopy" } },
  });
  const output = resolve(Deno.cwd(), values.output!);
  const size = await buildExecutable(output);
  console.error(
    `built ${relative(Deno.cwd(), output) || output} (${
      (size / 1e6).toFixed(1)
    } MB): copy it anywhere and run it; its first run unpacks into ~/.cache/lanecopy`,
  );
}
