import assert from "node:assert/strict";
import fc from "fast-check";
// @ts-types="@types/pg"
import pg from "pg";
import { type ColumnType, valueType } from "../src/write/column_type_rules.ts";
import { ANY_VALUE, VALUES_OF } from "./_column_values.ts";
import { databaseUrl } from "./_helpers.ts";

/**
 * The values (of `values`) that PostgreSQL's input function for `type`
 * refuses, each with the server's message.
 */
async function refused(
  client: pg.Client,
  type: ColumnType,
  values: string[],
): Promise<[string, string][]> {
  try {
    await client.query(`SELECT v::${type} FROM unnest($1::text[]) AS v`, [
      values,
    ]);
    return [];
  } catch {
    // One by one, to name each.
    const bad: [string, string][] = [];
    for (const value of values) {
      await client.query(`SELECT $1::${type}`, [value]).catch((error) =>
        bad.push([value, (error as Error).message])
      );
    }
    return bad;
  }
}

/** Every value a rule types is taken by the server's input function for that type. */
async function assertServerTakes(
  client: pg.Client,
  values: fc.Arbitrary<string>,
  numRuns: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(values, { maxLength: 60 }), async (batch) => {
      const byType = Map.groupBy(batch, valueType);
      for (const [type, typed] of byType) {
        if (type === "text") continue;
        assert.deepEqual(await refused(client, type, typed), [], type);
      }
    }),
    { numRuns },
  );
}

Deno.test("PostgreSQL takes every value each type rule takes", async (t) => {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    for (const [type, values] of Object.entries(VALUES_OF)) {
      await t.step(type, () => assertServerTakes(client, values, 40));
    }
    await t.step(
      "near misses",
      () => assertServerTakes(client, ANY_VALUE, 150),
    );
  } finally {
    await client.end();
  }
});

Deno.test("PostgreSQL reads integer, bigint and numeric values back unchanged", async () => {
  const client = new pg.Client({ connectionString: databaseUrl() });
  await client.connect();
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(VALUES_OF.integer, VALUES_OF.bigint, VALUES_OF.numeric)
          .filter((value) => !/[eE]/.test(value)),
        async (value) => {
          const type = valueType(value);
          const { rows } = await client.query(
            `SELECT $1::${type}::text AS back`,
            [value],
          );
          assert.equal(rows[0].back, value.replace(/^-0$/, "0"));
        },
      ),
      { numRuns: 200 },
    );
  } finally {
    await client.end();
  }
});
