/**
 * The bookkeeping schema: lanes, sources, per-writer progress and batch
 * markers, in a schema of their own (default `lanecopy`), created
 * idempotently.
 *
 * - `lanes (target, lane, next_seq, row_count, updated_at)`: one row per
 *   lane; `next_seq` is the seq the lane's next row gets.
 * - `sources (source_id, target, options, writers, target_generation, …)`:
 *   what a source id loads, with the options that change what its bytes
 *   mean, and the generation of the target table its progress belongs to.
 * - `progress (source_id, writer, byte_offset, rows_committed,
 *   lines_committed, fingerprint, complete)`: each writer's committed
 *   prefix; `fingerprint` is the SHA-256 of the source's bytes
 *   `[0, byte_offset)`.
 * - `batches (source_id, writer, start_offset, end_offset, row_count)`: the
 *   claim of each committed batch, keyed by source position; pruned behind
 *   the committed prefix.
 * - `targets (target, table_oid, relfilenode, generation, reset_reason, …)`:
 *   the identity of the table the target's lane counters count (its OID
 *   and storage), and its generation, which goes up each time the table is
 *   found dropped or truncated and its counters start again (see
 *   `target_identity.ts`).
 *
 * Bookkeeping made by an earlier version gains what it lacks (tables,
 * columns) when it is next used, keeping its rows.
 *
 * No foreign keys and no sequences, so the same SQL runs on Citus (the
 * tables small enough to be reference tables).
 *
 * @module
 */

import { DEFAULTS } from "../defaults.ts";
import { quoteIdentifier } from "../target/table_name.ts";
import type { Target } from "../target/target.ts";

/** The bookkeeping schema when none is given (from the config schema). */
export const DEFAULT_META_SCHEMA: string = DEFAULTS.metaSchema;

/** The channel `pg_notify` announces committed lane seqs on. */
export const NOTIFY_CHANNEL = "lanecopy";

const TABLES = ["lanes", "sources", "progress", "batches", "targets"] as const;

/**
 * The qualified, quoted names of the bookkeeping tables in `schema`.
 *
 * @param schema The bookkeeping schema.
 * @returns Each table's SQL name.
 *
 * @example Usage
 * ```ts
 * import { metaTables } from "./schema.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(metaTables("lanecopy").lanes, '"lanecopy"."lanes"');
 * ```
 */
export function metaTables(
  schema: string,
): Record<typeof TABLES[number], string> {
  const q = quoteIdentifier(schema);
  return {
    lanes: `${q}."lanes"`,
    sources: `${q}."sources"`,
    progress: `${q}."progress"`,
    batches: `${q}."batches"`,
    targets: `${q}."targets"`,
  };
}

/**
 * Creates the bookkeeping schema and tables when any is missing, and adds
 * the columns an earlier version's tables lack (keeping their rows). Two
 * first runs at once are safe: creation happens under a transaction-scoped
 * advisory lock, since concurrent `CREATE … IF NOT EXISTS` can still fail
 * on the catalog's unique index.
 *
 * @param target An open database.
 * @param schema The bookkeeping schema. Default `lanecopy`.
 *
 * @example Usage
 * ```ts
 * import { ensureBookkeeping } from "./schema.ts";
 * import { openTarget } from "../target/open_target.ts";
 * import assert from "node:assert/strict";
 *
 * const dataDir = await Deno.makeTempDir();
 * const target = await openTarget({ db: "", dataDir });
 * await ensureBookkeeping(target);
 * await ensureBookkeeping(target); // idempotent
 * const { rows } = await target.query("select count(*)::int as n from lanecopy.lanes");
 * assert.equal(rows[0].n, 0);
 * await target.close();
 * await Deno.remove(dataDir, { recursive: true });
 * ```
 */
export async function ensureBookkeeping(
  target: Target,
  schema: string = DEFAULT_META_SCHEMA,
): Promise<void> {
  try {
    if (await upToDate(target, schema)) return;
    await createTables(target, schema);
  } catch (error) {
    if ((error as { code?: unknown })?.code !== INSUFFICIENT_PRIVILEGE) {
      throw error;
    }
    throw await schemaDenied(target, schema, error as Error);
  }
}

/** SQLSTATE 42501. */
const INSUFFICIENT_PRIVILEGE = "42501";

/**
 * The error for a role that may not use the bookkeeping schema: what the
 * server said, and the grant (or the other schema) that lets the load go on.
 */
async function schemaDenied(
  target: Target,
  schema: string,
  cause: Error,
): Promise<Error> {
  const role = await target.query("SELECT current_user AS name").then(
    ({ rows }) => quoteIdentifier(String(rows[0].name)),
    () => "this role",
  );
  const name = quoteIdentifier(schema);
  const exists = await target.query(
    "SELECT to_regnamespace($1) IS NOT NULL AS exists",
    [name],
  ).then(({ rows }) => rows[0].exists === true, () => true);
  const fix = exists
    ? `Have its owner or a superuser run GRANT USAGE, CREATE ON SCHEMA ${name} TO ${role} ` +
      `(and SELECT, INSERT, UPDATE, DELETE on its tables, if another role made them)`
    : `Have a superuser run CREATE SCHEMA ${name} AUTHORIZATION ${role}`;
  return new Error(
    `Cannot keep the load's progress in schema ${name}: ${cause.message}. ` +
      `${fix}, or give a schema this role may use with --meta-schema NAME`,
    { cause },
  );
}

/** Creates the schema and its tables, or adds what an older version lacks. */
async function createTables(target: Target, schema: string): Promise<void> {
  const t = metaTables(schema);
  await target.transaction(async (session) => {
    await session.query(
      "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
      [`lanecopy schema ${schema}`],
    );
    // Only when missing: IF NOT EXISTS still needs CREATE on the database.
    const { rows } = await session.query(
      "SELECT to_regnamespace($1) IS NULL AS missing",
      [quoteIdentifier(schema)],
    );
    if (rows[0].missing === true) {
      await session.query(`CREATE SCHEMA ${quoteIdentifier(schema)}`);
    }
    await session.query(`CREATE TABLE IF NOT EXISTS ${t.lanes} (
      target text NOT NULL,
      lane text NOT NULL,
      next_seq bigint NOT NULL,
      row_count bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (target, lane))`);
    await session.query(`CREATE TABLE IF NOT EXISTS ${t.sources} (
      source_id text PRIMARY KEY,
      target text NOT NULL,
      options jsonb NOT NULL,
      writers integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await session.query(`CREATE TABLE IF NOT EXISTS ${t.progress} (
      source_id text NOT NULL,
      writer integer NOT NULL,
      byte_offset bigint NOT NULL DEFAULT 0,
      rows_committed bigint NOT NULL DEFAULT 0,
      lines_committed bigint NOT NULL DEFAULT 0,
      fingerprint text,
      complete boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (source_id, writer))`);
    await session.query(`CREATE TABLE IF NOT EXISTS ${t.batches} (
      source_id text NOT NULL,
      writer integer NOT NULL,
      start_offset bigint NOT NULL,
      end_offset bigint NOT NULL,
      row_count integer NOT NULL,
      committed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (source_id, writer, start_offset))`);
    await session.query(`CREATE TABLE IF NOT EXISTS ${t.targets} (
      target text PRIMARY KEY,
      table_oid bigint NOT NULL,
      relfilenode bigint NOT NULL,
      generation bigint NOT NULL DEFAULT 1,
      reset_reason text,
      updated_at timestamptz NOT NULL DEFAULT now())`);
    // Sources an earlier version registered keep NULL: generation 1.
    await session.query(
      `ALTER TABLE ${t.sources} ADD COLUMN IF NOT EXISTS target_generation bigint`,
    );
  });
}

/** Whether every table exists, with the newest column. */
async function upToDate(
  target: Target,
  schema: string,
): Promise<boolean> {
  const t = metaTables(schema);
  const { rows } = await target.query(
    `SELECT bool_and(to_regclass(name) IS NOT NULL) AND EXISTS (
              SELECT FROM pg_attribute
               WHERE attrelid = to_regclass($2) AND attname = 'target_generation'
                 AND NOT attisdropped) AS ok
       FROM unnest($1::text[]) AS name`,
    [Object.values(t), t.sources],
  );
  return rows[0].ok === true;
}
