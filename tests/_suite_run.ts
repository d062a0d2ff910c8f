/**
 * What the suite runners (`_run.ts`, `_pg18_run.ts`, `_citus_run.ts`)
 * share: a throwaway cluster and the `deno test` run against it, both
 * stopped on SIGINT and SIGTERM (also during start-up), and the sum of
 * `deno test`'s summary lines.
 *
 * @module
 */

/** Something a runner starts and must stop: a cluster. */
interface Stoppable {
  stop(): Promise<void>;
}

/**
 * A suite run: its cluster, its `deno test` child, and the signal that
 * stopped it, if one did. Listens for SIGINT and SIGTERM from creation,
 * so a signal during start-up still stops the cluster; the handler kills
 * the child, stops the cluster and exits 130 or 143.
 */
export class SuiteRun<C extends Stoppable> {
  /** The cluster being started, once {@linkcode SuiteRun.start} is called. */
  starting?: Promise<C>;
  /** The `deno test` process, once spawned. */
  child?: Deno.ChildProcess;
  /** The exit code of the signal that stopped the run, if one did. */
  signalCode?: number;
  #tempDir?: string;

  /** Starts listening for SIGINT and SIGTERM. */
  constructor() {
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      Deno.addSignalListener(signal, async () => {
        this.signalCode = code;
        try {
          this.child?.kill(signal);
        } catch { /* already gone */ }
        await this.stop();
        Deno.exit(code);
      });
    }
  }

  /** Starts the cluster with `start`, to be stopped by {@linkcode SuiteRun.stop}. */
  start(start: () => Promise<C>): Promise<C> {
    this.starting = start();
    return this.starting;
  }

  /**
   * A directory for the tests' temp files (the `TMPDIR` of `deno test`),
   * removed by {@linkcode SuiteRun.stop}: no run leaves files behind.
   */
  tempDir(): string {
    if (this.#tempDir === undefined) {
      this.#tempDir = Deno.makeTempDirSync({ prefix: "lanecopy-tests-" });
      // Clusters the tests start run as user postgres, in directories here.
      Deno.chmodSync(this.#tempDir, 0o755);
    }
    return this.#tempDir;
  }

  /**
   * Stops the cluster, if one was started, and removes the temp directory
   * (shared: the handler and the runner may race).
   */
  async stop(): Promise<void> {
    await this.starting?.then((cluster) => cluster.stop(), () => {});
    if (this.#tempDir !== undefined) {
      await Deno.remove(this.#tempDir, { recursive: true }).catch(() => {});
    }
  }
}

/** `deno test`'s totals. */
export interface TestCounts {
  passed: number;
  failed: number;
  ignored: number;
}

/** Colour codes, were a test to print them. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g");

/**
 * Copies `from` to `to` as it comes, and adds `deno test`'s summary lines
 * (`ok | 12 passed (3 steps) | 0 failed (2s)`, `FAILED | 10 passed | 2
 * failed | 1 ignored (5s)`) to `totals`.
 */
export async function countSummaries(
  from: ReadableStream<Uint8Array>,
  to: { write(bytes: Uint8Array): Promise<number> },
  totals: TestCounts,
): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  const count = (line: string) => {
    const plain = line.replace(ANSI, "");
    if (!/^(ok|FAILED) \| \d+ passed/.test(plain)) return;
    for (const key of ["passed", "failed", "ignored"] as const) {
      const match = new RegExp(`(\\d+) ${key}`).exec(plain);
      if (match) totals[key] += Number(match[1]);
    }
  };
  for await (const chunk of from) {
    for (let written = 0; written < chunk.length;) {
      written += await to.write(chunk.subarray(written));
    }
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop()!;
    lines.forEach(count);
  }
  count(pending + decoder.decode());
}
