/**
 * Replacing a lost server connection: reconnect with backoff, take back
 * what the old connection held, and give up after a limit.
 *
 * @module
 */

import pRetry, { AbortError } from "npm:p-retry@9.0.0";
import { UsageError } from "../errors.ts";
import type { Target } from "./target.ts";

/** Options for {@linkcode reconnectWithBackoff}. */
export interface ReconnectOptions {
  /** Attempts before giving up; 0 gives up at once. */
  retries: number;
  /**
   * Takes back what the old connection held (the source's lock), on the
   * new one. Its failure (another run holds the source now) gives up at
   * once.
   */
  relock: () => Promise<void>;
  /** Told of each attempt that failed, and of the reconnection. */
  onNotice?: (message: string) => void;
}

/**
 * Opens a new connection after `error` lost the old one, with backoff
 * (from 0.5 s, doubling up to 8 s), and takes the source's lock again;
 * gives up (throwing) once `retries` attempts failed, or at once when
 * another run holds the source now.
 *
 * @param target The connection that was lost (`target.reconnect` opens its
 * replacement).
 * @param error What lost it.
 * @param options The attempts, the relock, and the notices.
 *
 * @example Usage
 * ```ts
 * import { reconnectWithBackoff } from "./reconnect_with_backoff.ts";
 * import { openTarget } from "./open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ dataDir });
 * const lost = new Error("Connection terminated unexpectedly");
 * await assert.rejects(
 *   reconnectWithBackoff(target, lost, { retries: 0, relock: async () => {} }),
 *   /Connection terminated unexpectedly/,
 * );
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function reconnectWithBackoff(
  target: Target,
  error: unknown,
  options: ReconnectOptions,
): Promise<void> {
  const reason = (error as Error)?.message ?? String(error);
  if (options.retries === 0) throw error;
  options.onNotice?.(
    `${reason}; reconnecting (up to ${options.retries} attempts)`,
  );
  try {
    await pRetry(async () => {
      await target.reconnect!();
      try {
        await options.relock();
      } catch (refused) {
        throw new AbortError(refused as Error);
      }
    }, {
      retries: options.retries - 1,
      minTimeout: 500,
      maxTimeout: 8000,
      factor: 2,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft > 0) {
          options.onNotice?.(
            `Reconnect attempt ${attemptNumber} failed (${error.message}); ${retriesLeft} left`,
          );
        }
      },
    });
  } catch (failed) {
    if (failed instanceof UsageError) throw failed;
    throw new Error(
      `${reason}; gave up after ${options.retries} reconnect attempts (${
        (failed as Error).message
      }). Run the same command again to resume after the committed batches`,
      { cause: failed },
    );
  }
  options.onNotice?.(`Reconnected to ${target.description}; resuming`);
}
