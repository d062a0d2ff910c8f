/**
 * How a load stops on SIGINT and SIGTERM: cleanly on the first, at once on
 * the second.
 *
 * @module
 */

import { InterruptedError } from "../errors.ts";

/** What {@linkcode stopOnSignals} returns. */
export interface SignalStop {
  /** Aborted, with an {@linkcode InterruptedError}, by the first signal. */
  signal: AbortSignal;
  /** Removes the signal listeners. */
  release: () => void;
}

/**
 * SIGINT and SIGTERM stop a load cleanly: the first lets the batch in flight
 * finish and aborts the returned signal (ingest then exits 130 or 143 saying
 * how to resume); a second stops at once, and the server rolls that batch
 * back.
 *
 * @param beforeMessage Called before a signal's message is printed (to take
 * a progress bar away).
 * @returns The signal to pass to the load, and how to release the listeners.
 *
 * @example Usage
 * ```ts
 * import { stopOnSignals } from "./stop_on_signals.ts";
 * import assert from "node:assert/strict";
 *
 * const stop = stopOnSignals(() => {});
 * assert.equal(stop.signal.aborted, false);
 * stop.release();
 * ```
 */
export function stopOnSignals(beforeMessage: () => void): SignalStop {
  const controller = new AbortController();
  const listeners = (["SIGINT", "SIGTERM"] as const).map((name) => {
    const listener = () => {
      beforeMessage();
      const error = new InterruptedError(name);
      if (controller.signal.aborted) {
        console.error(
          `lanecopy: ${name} again: stopping now; the batch in flight rolls back, and a re-run resumes before it`,
        );
        Deno.exit(error.exitCode);
      }
      console.error(
        `lanecopy: ${name}: stopping after the batch in flight (send it again to stop at once)`,
      );
      controller.abort(error);
    };
    Deno.addSignalListener(name, listener);
    return [name, listener] as const;
  });
  return {
    signal: controller.signal,
    release: () => {
      for (const [name, listener] of listeners) {
        Deno.removeSignalListener(name, listener);
      }
    },
  };
}
