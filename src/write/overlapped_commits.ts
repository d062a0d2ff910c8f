/**
 * Two batches in flight on two connections: batch N+1's rows stream into
 * the server while batch N finishes its COPY, claims and commits, so the
 * server never sits idle through a claim's round trip or a COMMIT's WAL
 * flush.
 *
 * To COPY before its claim, a batch's rows carry predicted seqs: each
 * lane's next seq as this run last reserved it (or read it before the
 * first overlapped batch). The claim then runs after the COPY, and only
 * once batch N has committed (a claim sent earlier would read N's progress
 * row from before N's commit and fail its compare-and-set); it reserves
 * each lane only where `next_seq` is still the predicted value
 * (compare-and-set). Commits stay in source order, and a lane's seqs stay
 * gapless and in input order.
 *
 * When anything goes otherwise (another run moved a lane, the server
 * rejected a row, a connection failed), every batch in flight is rolled
 * back or ends, and from the first that did not commit the run goes on one
 * batch at a time through the writer's own path, which reports errors,
 * re-syncs and reconnects; it does not overlap again.
 *
 * @module
 */

import { type BatchOwner, claimBatch } from "../bookkeeping/batch_claims.ts";
import { metaTables } from "../bookkeeping/schema.ts";
import { type Batch, rowCount } from "../codec/row_block.ts";
import { assignSeqs, batchLanes } from "./seq_splice.ts";
import { type BatchOutcome, copyData, type CopyEncoding } from "./copy_data.ts";
import type { Target } from "../target/target.ts";
import type { UpsertStaging } from "./upsert_staging.ts";

/** Batches in flight at once, one per connection. */
const IN_FLIGHT = 2;

/** Options for {@linkcode OverlappedCommits}. */
export interface OverlappedCommitsOptions {
  /** The run's connection: it takes every other batch. */
  primary: Target;
  /** A second connection to the same database (`Target.fork`), closed at the end. */
  second: Target;
  /** The text COPY, and the binary encoder when batches may go in binary. */
  encoding: CopyEncoding;
  /** Whether the rows get seqs spliced in (the table has the seq column). */
  writesSeq: boolean;
  /** The source and writer whose batches these are. */
  owner: BatchOwner;
  /** The target as `schema.table`, the lanes' key. */
  target: string;
  /** Called before a batch's transaction begins and as COMMIT is sent. */
  onEvent?: (
    kind: "start" | "commit-sent",
    batch: Batch,
    number: number,
    binary?: boolean,
  ) => void;
  /**
   * Upsert: `spec` is its staging table; the rows move into the table
   * after the claim, once the batch before has committed (so records of a
   * key apply in input order, and a batch never waits on the next one's
   * rows).
   */
  upsert?: UpsertStaging;
  /** A batch committed here (in source order), with what its records did (upsert). */
  committed: (batch: Batch, number: number, outcome: BatchOutcome) => void;
  /**
   * The one-at-a-time path, for a batch that did not commit here and for
   * every batch after it.
   */
  alone: (batch: Batch, number: number) => Promise<void>;
}

/** A batch handed over and not yet settled. */
interface InFlight {
  batch: Batch;
  number: number;
  /** Resolves to the error that ended its transaction, or `undefined` once committed. */
  outcome: Promise<unknown>;
  /** What it did, once committed. */
  done?: BatchOutcome;
  /** Resolves once it is settled: committed and reported, or handed to `alone`. */
  settled: Promise<void>;
}

/** The reason a batch's overlapped transaction rolled back. */
class NotClaimed extends Error {}

/**
 * Writes batches two at a time on two connections (see the module's
 * description).
 *
 * @example Usage
 * ```ts ignore
 * import { OverlappedCommits } from "./overlapped_commits.ts";
 *
 * // In BatchWriter, once the first batch committed:
 * const overlapped = await OverlappedCommits.open({ primary, second, ...rest });
 * for await (const batch of batches) await overlapped.submit(batch, ++n);
 * await overlapped.finish();
 * ```
 */
export class OverlappedCommits {
  readonly #options: OverlappedCommitsOptions;
  readonly #nextSeqs: Map<string, number>;
  readonly #inFlight: InFlight[] = [];
  #settled: Promise<void> = Promise.resolve();
  #committed: Promise<void> = Promise.resolve();
  #useSecond = true;
  #overlapping = true;
  #secondClosed = false;
  #error: unknown;

  private constructor(
    options: OverlappedCommitsOptions,
    nextSeqs: Map<string, number>,
  ) {
    this.#options = options;
    this.#nextSeqs = nextSeqs;
  }

  /**
   * Reads the target's lanes (their next seqs are the first predictions)
   * on the primary connection, which must be idle.
   *
   * @param options The connections, table and callbacks.
   * @returns Overlapped commits, ready for batches.
   */
  static async open(
    options: OverlappedCommitsOptions,
  ): Promise<OverlappedCommits> {
    const nextSeqs = new Map<string, number>();
    if (options.writesSeq) {
      const { rows } = await options.primary.query(
        `SELECT lane, next_seq::float8 AS next_seq
           FROM ${metaTables(options.owner.metaSchema).lanes}
          WHERE target = $1`,
        [options.target],
      );
      for (const row of rows) {
        nextSeqs.set(row.lane as string, Number(row.next_seq));
      }
    }
    return new OverlappedCommits(options, nextSeqs);
  }

  /**
   * Hands a batch over; resolves once there is room for the next one (a
   * batch has settled), or rejects with the error of the one-at-a-time
   * path.
   *
   * @param batch A batch, the next in source order.
   * @param number Its 1-based number in the run.
   */
  async submit(batch: Batch, number: number): Promise<void> {
    if (this.#error !== undefined) throw this.#error;
    if (!this.#overlapping) {
      await this.#settled;
      if (this.#error !== undefined) throw this.#error;
      await this.#options.alone(batch, number);
      return;
    }
    while (this.#inFlight.length >= IN_FLIGHT) {
      await this.#inFlight[0].settled;
    }
    if (this.#error !== undefined) throw this.#error;
    if (!this.#overlapping) return await this.submit(batch, number);
    this.#launch(batch, number);
  }

  /**
   * Waits until every batch handed over has settled and closes the second
   * connection.
   *
   * @returns Once all committed; rejects with the first error.
   */
  async finish(): Promise<void> {
    await this.#settled;
    await this.#closeSecond();
    if (this.#error !== undefined) throw this.#error;
  }

  /** Starts a batch's transaction on the connection the previous one did not take. */
  #launch(batch: Batch, number: number): void {
    const session = this.#useSecond
      ? this.#options.second
      : this.#options.primary;
    this.#useSecond = !this.#useSecond;
    const { laneKeys, laneRows } = batchLanes(batch);
    let firstSeqs: Map<string, number> | undefined;
    if (this.#options.writesSeq) {
      firstSeqs = new Map();
      for (const [lane, rows] of laneRows) {
        const first = this.#nextSeqs.get(lane) ?? 1;
        firstSeqs.set(lane, first);
        this.#nextSeqs.set(lane, first + rows);
      }
    }
    const previousCommitted = this.#committed;
    const committed = Promise.withResolvers<void>();
    committed.promise.catch(() => {});
    this.#committed = committed.promise;
    const { encoding, owner, target, upsert } = this.#options;
    this.#options.onEvent?.("start", batch, number);
    const done: BatchOutcome = { binary: false };
    const outcome = session.transaction(async (tx) => {
      if (rowCount(batch) > 0) {
        await upsert?.create(tx);
        const seqs = firstSeqs && assignSeqs(laneKeys, firstSeqs);
        const copy = copyData(batch, seqs, encoding);
        done.binary = copy.binary;
        await tx.copyFrom(copy.spec, copy.data);
      }
      await previousCommitted;
      const reserved = await claimBatch(tx, owner, {
        startOffset: batch.startOffset,
        endOffset: batch.endOffset,
        rows: rowCount(batch),
        prefix: batch.prefix!,
        target,
        laneRows,
        expectedFirstSeqs: firstSeqs,
      });
      if (reserved === undefined) {
        throw new NotClaimed("the committed prefix is not where it was");
      }
      for (const [lane, first] of firstSeqs ?? []) {
        if (reserved.get(lane) !== first) {
          throw new NotClaimed(`lane "${lane}" moved`);
        }
      }
      if (rowCount(batch) > 0) {
        done.applied = await upsert?.apply(tx, rowCount(batch));
      }
    }, {
      onCommitSent: () =>
        this.#options.onEvent?.("commit-sent", batch, number, done.binary),
    }).then(() => {
      entry.done = done;
      committed.resolve();
      return undefined;
    }, (error: unknown) => {
      committed.reject(error);
      return error ?? new Error("The batch's transaction failed");
    });
    const entry: InFlight = {
      batch,
      number,
      outcome,
      settled: Promise.resolve(),
    };
    entry.settled = this.#settled = this.#settled.then(() =>
      this.#settle(entry)
    );
    this.#inFlight.push(entry);
  }

  /** Reports a committed batch, or hands it to the one-at-a-time path. */
  async #settle(entry: InFlight): Promise<void> {
    try {
      const error = await entry.outcome;
      if (error === undefined) {
        this.#options.committed(entry.batch, entry.number, entry.done!);
        return;
      }
      if (this.#overlapping) {
        this.#overlapping = false;
        // Every other transaction in flight ends first (it cannot commit
        // before this batch, so it rolls back), and the second connection
        // closes: what follows runs on the primary alone.
        await Promise.all(this.#inFlight.map((other) => other.outcome));
        await this.#closeSecond();
      }
      if (this.#error === undefined) {
        await this.#options.alone(entry.batch, entry.number);
      }
    } catch (error) {
      this.#error ??= error;
    } finally {
      this.#inFlight.splice(this.#inFlight.indexOf(entry), 1);
    }
  }

  async #closeSecond(): Promise<void> {
    if (this.#secondClosed) return;
    this.#secondClosed = true;
    await this.#options.second.close().catch(() => {});
  }
}
