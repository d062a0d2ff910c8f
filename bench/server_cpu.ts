/**
 * The CPU time a local PostgreSQL server has used, read from `/proc`: the
 * postmaster's own time, the time of the children it has reaped (backends
 * that have exited), and the time of its live children. The difference of
 * two readings is what the server spent in between, whichever backends
 * did it. Only for a server on this machine (Linux).
 *
 * @module
 */

// @ts-types="@types/pg"
import pg from "pg";

const TICKS_PER_SECOND = 100; // Linux's USER_HZ

/**
 * Finds the postmaster of the server at `url` (the parent of a backend).
 *
 * @param url The server.
 * @returns The postmaster's pid.
 *
 * @example Usage
 * ```ts ignore
 * import { postmasterPid } from "./server_cpu.ts";
 * console.log(await postmasterPid(Deno.env.get("DATABASE_URL")!));
 * ```
 */
export async function postmasterPid(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      "SELECT pg_backend_pid() AS pid",
    );
    return (await stat(rows[0].pid)).ppid;
  } finally {
    await client.end();
  }
}

/**
 * CPU seconds the server has used so far: the postmaster, its reaped
 * children and its live children.
 *
 * @param postmaster The postmaster's pid.
 * @returns Seconds of CPU (user + system).
 *
 * @example Usage
 * ```ts
 * import { serverCpuSeconds } from "./server_cpu.ts";
 * import assert from "node:assert/strict";
 *
 * // This process stands in for a postmaster: its own time counts.
 * assert.ok(await serverCpuSeconds(Deno.pid) > 0);
 * ```
 */
export async function serverCpuSeconds(postmaster: number): Promise<number> {
  const own = await stat(postmaster);
  let ticks = own.utime + own.stime + own.cutime + own.cstime;
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const child = await stat(Number(entry.name)).catch(() => undefined);
    if (child?.ppid === postmaster) ticks += child.utime + child.stime;
  }
  return ticks / TICKS_PER_SECOND;
}

/** The fields of `/proc/PID/stat` this module reads. */
async function stat(pid: number): Promise<
  { ppid: number; utime: number; stime: number; cutime: number; cstime: number }
> {
  const text = await Deno.readTextFile(`/proc/${pid}/stat`);
  // The command name is in parentheses and may hold spaces: split after it.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); ppid is field 4, utime..cstime 14..17.
  return {
    ppid: Number(fields[1]),
    utime: Number(fields[11]),
    stime: Number(fields[12]),
    cutime: Number(fields[13]),
    cstime: Number(fields[14]),
  };
}
