/**
 * A bound for lanecopy's COPY binary path: `psql \copy ... (FORMAT binary)`
 * of the very bytes lanecopy's codec makes from the CSV, written to a file
 * beforehand (untimed). The server parses exactly what lanecopy sends it,
 * and the client costs next to nothing (psql streams a file), so no
 * client, however fast its codec, can load these rows faster through COPY
 * binary on this server.
 *
 * @module
 */

import { join } from "node:path";
import { BinaryRows } from "../src/codec/binary/binary_rows.ts";
import { CsvDecodeStream, openTarget, RechunkStream } from "../src/mod.ts";
import { binaryColumns } from "../src/write/binary_columns.ts";
import { psql } from "./load_methods.ts";
import type { Method } from "./load_methods.ts";
import { TYPED_COLUMNS } from "./typed_table.ts";

/** The COPY binary header's length, and the trailer's. */
const HEADER_BYTES = 19;
const TRAILER = Uint8Array.of(0xff, 0xff);

/**
 * Writes the CSV `file`'s rows, encoded by lanecopy's binary codec for the
 * typed table `table`, as one COPY binary file at `out` (the batches'
 * streams joined: one header, every row, one trailer).
 *
 * @param file The generated CSV.
 * @param url The server (its catalog gives the columns' types).
 * @param table The typed table, `schema.table`.
 * @param out The file to write.
 * @returns How many batches went into it.
 *
 * @example Usage
 * ```ts ignore
 * import { writeLanecopyBinary } from "./lanecopy_binary_file.ts";
 * await writeLanecopyBinary("rows.csv", Deno.env.get("DATABASE_URL")!, "public.t", "rows.bin");
 * ```
 */
export async function writeLanecopyBinary(
  file: string,
  url: string,
  table: string,
  out: string,
): Promise<number> {
  const [schema, name] = table.split(".");
  const target = await openTarget({ db: url });
  let encoder: BinaryRows;
  try {
    const columns = await binaryColumns(
      target,
      { schema, table: name },
      TYPED_COLUMNS.map(([column]) => column),
    );
    if (!("types" in columns)) {
      throw new Error(`column ${columns.column} has no binary encoder`);
    }
    encoder = new BinaryRows({
      types: columns.types,
      naiveTimestamptzIsUtc: columns.naiveUtc,
    });
  } finally {
    await target.close();
  }
  using input = await Deno.open(file);
  using output = await Deno.open(out, {
    write: true,
    create: true,
    truncate: true,
  });
  let batches = 0;
  const stream = input.readable
    .pipeThrough(new CsvDecodeStream())
    .pipeThrough(new RechunkStream({ batchSize: 10_000 }));
  for await (const batch of stream) {
    const encoded = encoder.encode(batch);
    if (!(encoded instanceof Uint8Array)) {
      throw new Error(`row ${batch.lines[encoded.row]} has no binary form`);
    }
    const body = encoded.subarray(
      batches === 0 ? 0 : HEADER_BYTES,
      encoded.length - TRAILER.length,
    );
    for (let at = 0; at < body.length;) {
      at += await output.write(body.subarray(at));
    }
    batches++;
  }
  await output.write(TRAILER);
  return batches;
}

/**
 * The bound as a bench method: set-up encodes the file once (needs the
 * typed table `public.lanecopy_compare` to exist for its types), each run
 * is `psql \copy` of it.
 *
 * @param dir A directory of this process's for the file.
 * @param table The typed table whose types the codec reads.
 * @returns The method.
 *
 * @example Usage
 * ```ts ignore
 * import { lanecopyBinaryFile } from "./lanecopy_binary_file.ts";
 * const method = lanecopyBinaryFile("/tmp/bench", "public.lanecopy_compare");
 * console.log(method.name);
 * ```
 */
export function lanecopyBinaryFile(dir: string, table: string): Method {
  const binFile = join(dir, "lanecopy_rows.bin");
  return {
    name: "psql \\copy of lanecopy's binary",
    prepare: async (file, url) => {
      await writeLanecopyBinary(file, url, table, binFile);
    },
    run: (_file, target, url) =>
      psql(url, [
        `\\copy ${target} FROM '${
          binFile.replaceAll("'", "''")
        }' WITH (FORMAT binary)`,
      ]),
  };
}
