/**
 * A {@linkcode Target} inside an open transaction, for `--atomic`: each of
 * its transactions is a savepoint of the outer one, so the batch writer
 * (and the search for rejected rows, whose transactions roll back) works
 * unchanged, and nothing commits until the outer transaction does.
 *
 * @module
 */

import type {
  CopySpec,
  QueryResult,
  Session,
  Target,
  TransactionHooks,
} from "./target.ts";

/**
 * Wraps the session of an open transaction as a target whose
 * `transaction()` is a savepoint: released when the work resolves, rolled
 * back to when it throws. `close()` does nothing (the outer owner closes).
 *
 * @param base The target the transaction was opened on.
 * @param session The open transaction.
 * @returns The target.
 *
 * @example Usage
 * ```ts
 * import { savepointTarget } from "./savepoint_target.ts";
 * import { openTarget } from "./open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
 * await target.query("create table t (n int)");
 * await target.transaction(async (session) => {
 *   const inner = savepointTarget(target, session);
 *   await inner.transaction((s) => s.query("insert into t values (1)"));
 *   await inner.transaction(async (s) => {
 *     await s.query("insert into t values (2)");
 *     throw new Error("this one rolls back alone");
 *   }).catch(() => {});
 * });
 * const { rows } = await target.query("select array_agg(n) as ns from t");
 * assert.deepEqual(rows[0].ns, [1]);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export function savepointTarget(base: Target, session: Session): Target {
  let depth = 0;
  return {
    kind: base.kind,
    description: base.description,
    query: (sql: string, params?: unknown[]): Promise<QueryResult> =>
      session.query(sql, params),
    copyFrom: (
      spec: CopySpec,
      data: Uint8Array | Iterable<Uint8Array>,
    ): Promise<number> => session.copyFrom(spec, data),
    async transaction<T>(
      work: (session: Session) => Promise<T>,
      hooks: TransactionHooks = {},
    ): Promise<T> {
      const name = `lanecopy_atomic_${++depth}`;
      await session.query(`SAVEPOINT ${name}`);
      let result: T;
      try {
        result = await work(session);
      } catch (error) {
        await session.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => {});
        await session.query(`RELEASE SAVEPOINT ${name}`).catch(() => {});
        throw error;
      } finally {
        depth--;
      }
      hooks.onCommitSent?.();
      await session.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    },
    close: () => Promise.resolve(),
  };
}
