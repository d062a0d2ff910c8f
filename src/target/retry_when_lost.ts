/**
 * A step on a server connection that the connection's loss must not end:
 * run again on a new connection, as often as the reconnect allows.
 *
 * @module
 */

import type { Target } from "./target.ts";

/**
 * Runs `step`, and runs it again after `reconnect` each time it failed
 * because `target`'s connection was lost (`target.lost`). Any other
 * failure is thrown, and so is a loss when there is no `reconnect`; a
 * reconnect that gives up throws its own error. `step` must be safe to
 * run again: a statement that failed with its connection has no effect.
 *
 * @param target The connection `step` uses.
 * @param reconnect Opens a new connection (with backoff, and giving up
 *   after its limit), or `undefined` to give up at once.
 * @param step The work, all of it on `target`.
 * @returns What `step` returned once it ran through.
 *
 * @example Usage
 * ```ts
 * import assert from "node:assert/strict";
 * import { retryWhenLost } from "./retry_when_lost.ts";
 * import { openTarget } from "./open_target.ts";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
 * const { rows } = await retryWhenLost(
 *   target,
 *   undefined,
 *   () => target.query("select 1 as one"),
 * );
 * assert.equal(rows[0].one, 1);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function retryWhenLost<T>(
  target: Target,
  reconnect: ((error: unknown) => Promise<void>) | undefined,
  step: () => Promise<T>,
): Promise<T> {
  while (true) {
    try {
      return await step();
    } catch (error) {
      if (reconnect === undefined || target.lost !== true) throw error;
      await reconnect(error);
    }
  }
}
