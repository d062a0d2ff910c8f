/**
 * How a parallel load (`--parallel N`) maps lanes to writers
 * (`--routing`): by a hash of the lane key (`hash`, {@linkcode laneWriter}),
 * or, on a table Citus distributes by the lane column, by the lane's shard
 * (`shards`): shard i, in the order of its hash range, goes to writer
 * i mod N, so each writer's COPY touches its own shards only.
 *
 * The routing is part of a source's resume state, like the writer count:
 * a lane must meet the same writer on every run, so a source that is not
 * complete resumes only with the routing (and, by shard, the shards) it
 * was loaded with.
 *
 * @module
 */

import { ExitCode, UsageError } from "../errors.ts";
import {
  distributionHash,
  HASHABLE_TYPES,
  type HashableType,
  isHashableType,
} from "./citus_hash.ts";
import type { TableDistribution } from "./citus_shards.ts";
import { laneWriter } from "./writer_split.ts";

/** How lanes map to writers: by a hash of the lane key, or by Citus shard. */
export type Routing = "hash" | "shards";

/**
 * What routing by shard needs, as plain data (it crosses to the decode
 * worker): the distribution column's type and each shard's lowest hash.
 */
export interface ShardRoute {
  /** The distribution column's type. */
  type: HashableType;
  /** Each shard's lowest hash value, ascending. */
  mins: number[];
}

/** The routing stored with a source loaded by shard. */
export interface StoredRouting {
  /** By shard. */
  by: "shards";
  /** How many shards the table had. */
  shards: number;
  /** A digest of the column's type and the shards' hash ranges. */
  layout: string;
}

/** A run's routing: what it uses, and what is stored with its source. */
export interface RoutingPlan {
  /** How lanes map to writers. */
  routing: Routing;
  /** By shard: the shards' ranges and the column's type. */
  route?: ShardRoute;
  /** By shard: what the source stores (unset: by hash). */
  stored?: StoredRouting;
}

/**
 * The lane → writer function of a run: {@linkcode laneWriter} without a
 * route; with one, the writer of the lane's shard: the shard (in hash
 * order) whose range holds the hash Citus computes for the lane key,
 * number i, goes to writer i mod `writers`. A lane key that is no value of
 * the column's type (the server refuses its row) goes to writer 0: the
 * same writer on every run, so exactly once holds.
 *
 * @param writers How many writers, at least 1.
 * @param route The shards, to route by them.
 * @returns The writer of a lane key, `0 <= writer < writers`.
 *
 * @example Usage
 * ```ts
 * import { laneRouter } from "./shard_routing.ts";
 * import assert from "node:assert/strict";
 *
 * // Four shards of an int4 column; hash(1) is -1905060026, in shard 0.
 * const route = { type: "int4" as const, mins: [-2147483648, -1073741824, 0, 1073741824] };
 * const writerOf = laneRouter(2, route);
 * assert.equal(writerOf("1"), 0);
 * assert.equal(writerOf("not a number"), 0);
 * assert.equal(laneRouter(3)("eu"), laneRouter(3)("eu"));
 * ```
 */
export function laneRouter(
  writers: number,
  route?: ShardRoute,
): (lane: string) => number {
  if (route === undefined) return (lane) => laneWriter(lane, writers);
  const { type, mins } = route;
  return (lane) => {
    const hash = distributionHash(type, lane);
    if (hash === undefined) return 0;
    // The last shard whose lowest hash is at most the lane's.
    let low = 0;
    let high = mins.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (mins[middle] <= hash) low = middle;
      else high = middle - 1;
    }
    return low % writers;
  };
}

/**
 * Why routing by shard cannot be used for a table, as a phrase, or
 * `undefined` when it can: the table must be hash-distributed by Citus by
 * the lane column, of a type whose hash lanecopy computes, under a
 * deterministic collation, and there must be writers to route to.
 *
 * @param distribution How the table is distributed.
 * @param lane The lane column.
 * @param writers How many writers.
 * @returns Why not, or `undefined`.
 *
 * @example Usage
 * ```ts
 * import { whyNotByShard } from "./shard_routing.ts";
 * import assert from "node:assert/strict";
 *
 * const shards = [{ id: 1, min: -2147483648, max: 2147483647 }];
 * const hashed = { kind: "hash" as const, column: "region", type: "text", deterministic: true, shards };
 * assert.equal(whyNotByShard(hashed, "region", 2), undefined);
 * assert.match(whyNotByShard(hashed, "id", 2)!, /distributed by column "region", not by the lane column "id"/);
 * assert.match(whyNotByShard({ kind: "none", reason: "Citus is not installed on this server" }, "region", 2)!, /Citus is not installed/);
 * ```
 */
export function whyNotByShard(
  distribution: TableDistribution | undefined,
  lane: string | undefined,
  writers: number,
): string | undefined {
  if (writers < 2) {
    return "one writer has no lanes to route (it applies with --parallel 2 or more)";
  }
  if (lane === undefined) return "there is no --lane column to route by";
  if (distribution === undefined) {
    return "the table's distribution is not known (the embedded database has no Citus)";
  }
  if (distribution.kind !== "hash") return distribution.reason;
  if (distribution.column !== lane) {
    return `the table is distributed by column "${distribution.column}", not by the lane column "${lane}"`;
  }
  if (!isHashableType(distribution.type)) {
    return `its distribution column "${lane}" is of type ${distribution.type}, and lanecopy computes Citus's hash only for ${
      HASHABLE_TYPES.join(", ")
    }`;
  }
  if (!distribution.deterministic) {
    return `its distribution column "${lane}" has a nondeterministic collation, whose hash lanecopy does not compute`;
  }
  if (distribution.shards.length === 0) return "the table has no shards";
  return undefined;
}

/** What {@linkcode planRouting} weighs. */
export interface RoutingRequest {
  /** `--routing`, when given. */
  asked?: Routing;
  /** How many writers the run uses. */
  writers: number;
  /** The lane column. */
  lane?: string;
  /** The target table's distribution (unset: not read, as on the embedded database). */
  distribution?: TableDistribution;
  /**
   * When the run resumes a source earlier runs started: the routing they
   * stored (unset: by hash), and whether they completed it.
   */
  resumed?: { stored?: StoredRouting; complete: boolean };
  /** The source id, for messages. */
  sourceId: string;
  /** Told when a complete source keeps its routing. */
  onNotice?: (message: string) => void;
}

/**
 * A run's routing. A new source (or a restart) routes by `asked`, by
 * default by shard when the table is one Citus hash-distributes by the
 * lane column and there are several writers ({@linkcode whyNotByShard}),
 * else by hash; `shards` where it cannot apply is refused (exit 4) saying
 * why. A resumed source keeps the routing it was loaded with: another
 * `--routing` is refused while it is not complete (each writer's progress
 * belongs to its lanes), and said and ignored once it is; loaded by shard,
 * its table's shards must be the same as then.
 *
 * @param request The run's routing, writers, table and stored state.
 * @returns The routing, with the shards to route by and what to store.
 *
 * @example Usage
 * ```ts
 * import { planRouting } from "./shard_routing.ts";
 * import assert from "node:assert/strict";
 *
 * const distribution = {
 *   kind: "hash" as const, column: "region", type: "text", deterministic: true,
 *   shards: [{ id: 1, min: -2147483648, max: -1 }, { id: 2, min: 0, max: 2147483647 }],
 * };
 * const plan = await planRouting({ writers: 2, lane: "region", distribution, sourceId: "s" });
 * assert.equal(plan.routing, "shards");
 * assert.deepEqual(plan.route, { type: "text", mins: [-2147483648, 0] });
 * assert.equal(plan.stored?.shards, 2);
 * assert.equal((await planRouting({ writers: 2, lane: "id", distribution, sourceId: "s" })).routing, "hash");
 * await assert.rejects(
 *   planRouting({ asked: "shards", writers: 2, lane: "id", distribution, sourceId: "s" }),
 *   /Cannot load with --routing shards: the table is distributed by column "region"/,
 * );
 * ```
 */
export async function planRouting(
  request: RoutingRequest,
): Promise<RoutingPlan> {
  const { asked, writers, distribution, resumed, sourceId } = request;
  const why = whyNotByShard(distribution, request.lane, writers);
  if (asked === "shards" && writers < 2) {
    throw new UsageError(`Cannot load with --routing shards: ${why}`);
  }
  if (resumed === undefined || writers < 2) {
    const routing = asked ?? (why === undefined ? "shards" : "hash");
    if (
      asked === undefined && why !== undefined && writers > 1 &&
      distribution?.kind === "hash" && distribution.column === request.lane
    ) {
      request.onNotice?.(
        `Hashing lanes to writers rather than routing them by shard: ${why}`,
      );
    }
    if (routing === "hash") return { routing };
    if (why !== undefined) {
      throw new UsageError(
        `Cannot load with --routing shards: ${why} (leave --routing out, or pass --routing hash to hash lanes to writers)`,
        ExitCode.Refused,
      );
    }
    return byShard(distribution!);
  }
  const stored: Routing = resumed.stored ? "shards" : "hash";
  if (asked !== undefined && asked !== stored) {
    if (!resumed.complete) {
      throw new UsageError(
        `Cannot resume source "${sourceId}" with --routing ${asked}: it was loaded with --routing ${stored} and is not complete, and each writer's progress belongs to its lanes (run it with --routing ${stored}, or pass --restart to load it again from the start with --routing ${asked})`,
        ExitCode.Refused,
      );
    }
    request.onNotice?.(
      `Source "${sourceId}" was loaded completely with --routing ${stored}: checking it with that routing (--routing ${asked} applies when it is loaded again with --restart)`,
    );
  }
  if (stored === "hash") return { routing: "hash" };
  const then = resumed.stored!;
  const refuse = (detail: string) =>
    new UsageError(
      `Cannot resume source "${sourceId}", loaded with --routing shards: ${detail}, and each writer's progress belongs to the lanes of its shards (pass --restart to load it again from the start)`,
      ExitCode.Refused,
    );
  if (why !== undefined) throw refuse(`it no longer applies (${why})`);
  const plan = await byShard(distribution!);
  if (plan.stored!.layout !== then.layout) {
    throw refuse(
      `the table's shards changed since (${then.shards} then, ${
        plan.stored!.shards
      } now, or their hash ranges moved)`,
    );
  }
  return plan;
}

/** Routing by the shards of a table hash-distributed by the lane column. */
async function byShard(distribution: TableDistribution): Promise<RoutingPlan> {
  if (distribution.kind !== "hash" || !isHashableType(distribution.type)) {
    throw new TypeError("Cannot route by shard: the table is not hashable");
  }
  const { type, shards } = distribution;
  const text = `${type};${
    shards.map((shard) => `${shard.min}:${shard.max}`).join(",")
  }`;
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  const layout = Array.from(
    new Uint8Array(digest).subarray(0, 12),
    (byte) => byte.toString(16).padStart(2, "0"),
  ).join("");
  return {
    routing: "shards",
    route: { type, mins: shards.map((shard) => shard.min) },
    stored: { by: "shards", shards: shards.length, layout },
  };
}
